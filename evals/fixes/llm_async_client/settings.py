"""Settings the assistant reads (in production from the environment)."""

LLM_URL = "http://127.0.0.1:8080/v1"
LLM_KEY = "local-test-key"
