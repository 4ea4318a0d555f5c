"""Pure rules of Broadcaster: no I/O, no framework, nothing else from the project.

Read in this order: ``incident`` (what is broken), ``lifecycle`` (how a statement
moves from draft to published), ``approval`` (who may approve what), ``hashing``
(what exactly was approved).
"""
