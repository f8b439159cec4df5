"""The workhooks benchmarks: ``.venv/bin/python -m benchmarks [--postgres URL] [--quick]``.

Each measure lives in its own module (``delivery``, ``baseline``, ``backlog``, ``api_load``);
``run`` runs them and ``report`` turns the results into the Markdown table, the goals and
``docs/performance.md`` with its plots.
"""
