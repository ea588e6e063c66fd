"""The routegraph benchmark (bench/run.py): routegraph and peer tracers side
by side in the lab. One module per job: common (paths, lab names, tools),
truth and scoring (the ground truth and accuracy), parsers (tool outputs),
counters (nft counts in the lab), labctl (lab mode and throttling), peers
(tool command lines), worker (runs inside the prober), runner (one
measurement), report (aggregation and Markdown), cli (options and the run)."""
