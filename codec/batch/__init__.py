"""Many files in one command: plan (which files, which outputs), work (one file), run (here, a
process pool or Ray), report (progress and the closing summary)."""
