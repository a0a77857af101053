"""Prefect flows and deployments of ptce-pipeline (installed as `ptce_pipeline.flows`).

The flows are thin: each task calls one step of the library. Import this package only after
`ptce_pipeline.orchestration.prefect_env.configure()` has set Prefect's environment.
"""
