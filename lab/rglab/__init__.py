"""lab/lab's modules: the topology, what is built from it, and the commands."""
