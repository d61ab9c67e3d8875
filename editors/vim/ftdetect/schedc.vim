autocmd BufRead,BufNewFile *.policy setfiletype schedc
