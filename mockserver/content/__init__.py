"""What the fake says: generated text, tool arguments and schema-valid JSON, token counts and log probabilities,
all drawn from seeded generators so a run replays exactly."""
