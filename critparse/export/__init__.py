"""What critparse writes for people and other tools: the HTML review page (`report`)."""
