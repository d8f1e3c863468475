"""Speed and memory benchmarks: `make bench` runs them, prints tables and writes benchmarks/results/*.json."""
