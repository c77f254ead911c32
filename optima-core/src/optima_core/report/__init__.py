"""``report.html``: one self-contained page per run, built only from the files in its output folder.

* :mod:`~optima_core.report.record`: what a run records for the report when it starts (command, versions,
  resources, a summary of the inputs) in ``optima_run.json``;
* :mod:`~optima_core.report.build`: the page of an output folder, written atomically (the run after every stage,
  ``optima report OUTPUT_DIR`` on demand);
* the sections (:mod:`~optima_core.report.run_sections`, :mod:`~optima_core.report.inputs_section`,
  :mod:`~optima_core.report.stage_section`, :mod:`~optima_core.report.selection_section`) and their building
  blocks (:mod:`~optima_core.report.html_parts`, :mod:`~optima_core.report.highlight`,
  :mod:`~optima_core.report.page`, :mod:`~optima_core.report.trials`, :mod:`~optima_core.report.files`).

Plain HTML with an inline stylesheet and the figures as inline PNG data: it opens offline, in any browser, and
still works when mailed.
"""
