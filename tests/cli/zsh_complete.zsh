# zsh -f zsh_complete.zsh MODELGATE FPATH_DIR OUT 'LINE': types LINE and a
# TAB into an interactive zsh (in a zpty) whose completion system (compinit)
# finds _modelgate in FPATH_DIR, and writes the matches completion offered,
# one a line, to OUT. The real compadd runs; a wrapper only copies what it
# matched (compadd -O) into OUT. `modelgate` runs MODELGATE.
zmodload zsh/zpty || exit 3
mg=$1 dir=$2 out=$3 line=$4
: >"$out"
zpty z "zsh -f -i" || exit 3
zpty -w z "PS1='> '; fpath=(${(q)dir} \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z "compadd() { local -a m; builtin compadd -O m \"\$@\"; print -rl -- \$m >>${(q)out}; builtin compadd \"\$@\" }"
zpty -w z "modelgate() { ${(q)mg} \"\$@\" }"
zpty -w z "print READY"
zpty -r z x '*READY*' && zpty -r z x '*READY*' || exit 3
zpty -n -w z "$line"$'\t'
sleep 1
zpty -w z $'\C-u''print DONE'
zpty -r z x '*DONE*' && zpty -r z x '*DONE*' || exit 3
zpty -d z
