"""Developer tools: the local stack, the key tool, the demo data generator and the benchmark."""
