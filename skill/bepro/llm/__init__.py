"""The LLM runtime: any OpenAI-compatible server, with the resilience the skill preaches."""
