"""The poles' web space and the national team's pages (the project's network surface), and the
personal access links that open them. `links` manages the links (`ptce access`)."""

from ptce_pipeline.portal.links import access_rows, create_link, revoke_links

__all__ = ["access_rows", "create_link", "revoke_links"]
