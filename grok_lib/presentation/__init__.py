"""Layer 6, presentation: what a reader sees.

- `style`: the one palette and figure sizes;
- `run_plots`: pictures of one run (curves, the operation table);
- `sweep_plots`: pictures of many runs (phase diagrams, timing against a setting);
- `lab`: the live ipywidgets lab; `explorer`: the static sweep explorer;
- `notebook`: helpers for the chapters (glue).
"""
