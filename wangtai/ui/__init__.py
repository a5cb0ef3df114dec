"""The dashboard's shared UI: page setup (nav, filters, freshness), cached query calls, charts, maps, formats.

Pages import from here and stay UI only: filters → ``data.run`` a named query → a chart.
"""
