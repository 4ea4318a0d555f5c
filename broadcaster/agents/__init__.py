"""The contact centre's agents: the agent desk (the live agent notes of every open incident, their
versions) read from the stored, approved agent renditions (`channels/agent.py`)."""
