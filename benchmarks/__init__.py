"""The workhooks benchmarks: ``.venv/bin/python -m benchmarks [--postgres URL] [--quick]``.

Each measure lives in its own module (``delivery``, ``baseline``, ``backlog``, ``api_load``,
and the scaling ones: ``noisy``, ``idle``, ``broadcast``, ``tenants``, ``takeover``, which run
the engine as real processes through ``engine``); ``run`` runs them and ``report`` (with
``scaling_goals`` and ``scaling_rows``) turns the results into the Markdown table, the goals
and ``docs/performance.md`` with its plots.
"""
