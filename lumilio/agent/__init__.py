"""The library assistant: a chat agent that finds, groups and organises photos.

    llm.py       the model connection (any OpenAI-compatible chat server) and its check
    completions.py  one streamed completion, read within its bounds
    prompt.py    the system prompt, and how library text is framed as data
    runs.py      one run: model turns, tool calls, bounds; frames for the stream
    stream.py    the Server-Sent Events response that drives a run
    tools/       what the model may call, each a thin layer over the services
    actions.py   changes the model asked for, carried out after the user confirms
    threads.py   conversations and their messages, per user
    refs.py      result snapshots of the tools, with facets (facets.py)
    pins.py      board widgets made from refs, frozen or live
    library.py   scoped reads of the catalog shared by the tools

Everything runs in the calling user's scope: a tool sees what the user's own
requests would see, and another user's refs and pins answer 404. Thread ids, which
clients choose, are scoped per user: another user's thread id names a thread of the
caller's own.
"""
