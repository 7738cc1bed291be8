"""llm-hyperparameters: tracked hyperparameters and execution traces, with no LLM dependency.

The package is being built (see the project issues); it already pins the layering rule:
it imports neither `llm_strategy` nor langchain.
"""

__all__: list[str] = []
