"""The Dagster shell: assets, checks, jobs, schedules, sensors and resources."""
