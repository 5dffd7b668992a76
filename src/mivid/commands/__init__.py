"""One module per command (or group of commands), each registering on `mivid.app.app`.

Command bodies stay thin: parse, call the core, render. Importing a command
module must stay cheap; heavy imports go inside the function bodies.
"""
