"""Tables and figures of the paper, rendered from the pipeline's results files only."""
