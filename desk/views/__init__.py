"""The desk's pages, by what they show:

- `desktop`: the agent desktop, its regions and their versions, the agent's state
- `calls`: the agent's and team lead's call actions on the desktop and team board (htmx)
- `board`: the 실장's live board of their team, the requests inbox and its decisions
"""
