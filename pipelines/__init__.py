"""zenbatch's pipelines: each module only wires steps; behaviour lives in configs/pipelines/."""
