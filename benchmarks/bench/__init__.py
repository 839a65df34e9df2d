"""The pieces of ``benchmarks/pipeline.py`` (``make bench``), one concern each.

``servers``: the sandboxes in their own processes and the seeded org; ``inprocess``: a scan through
``dg.materialize`` in a child process; ``cli``: a scan through ``dagster asset materialize`` with a
fresh ``DAGSTER_HOME``; ``steps``: where a CLI run's time went (the event log); ``trends``: the
README's trend queries over generated findings; ``report``: growth, machine facts, the table.
"""
