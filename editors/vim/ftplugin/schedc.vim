" Comments start with #; indent blocks by four spaces like the shipped policies.
if exists("b:did_ftplugin")
  finish
endif
let b:did_ftplugin = 1
setlocal commentstring=#\ %s comments=:#
setlocal expandtab shiftwidth=4 softtabstop=4
let b:undo_ftplugin = "setl cms< com< et< sw< sts<"
