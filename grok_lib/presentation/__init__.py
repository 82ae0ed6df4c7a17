"""Layer 6, presentation: what a reader sees.

- `style`: the one palette and the colours every figure and page uses;
- `run_plots`: pictures of one run (curves, weight norm, the operation table);
- `sweep_plots`: pictures of many runs (phase diagrams, timing against a setting, seed spreads);
- `lab`, `lab_settings`, `lab_inputs`, `lab_figure`: the live ipywidgets lab, its presets, how it reads
  what a reader types, and its figure;
- `explorer`: the static sweep explorer (a page with its script and styles as files);
- `notebook`: helpers for the chapters (`say`, a run's milestones, Markdown tables of runs).
"""
