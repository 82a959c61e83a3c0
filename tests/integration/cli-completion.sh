#!/usr/bin/env bash
# The shell completions (packaging/completion/) offer exactly the commands
# `settle --help` lists and, for each, exactly the long options its --help
# lists: a new option or command that the completions miss fails here.
. "$SOURCE_ROOT/tests/lib.sh"
BASH_FILE=$SOURCE_ROOT/packaging/completion/settle.bash
ZSH_FILE=$SOURCE_ROOT/packaging/completion/_settle

help_commands=$("$SETTLE" --help | sed -n 's/^  \([a-z]\+\) .*/\1/p' | sort | tr '\n' ' ')
bash_commands=$(sed -n 's/^    local commands="\(.*\)"$/\1/p' "$BASH_FILE" | tr ' ' '\n' | grep -vx help | sort | tr '\n' ' ')
zsh_commands=$(sed -n "s/^  '\([a-z]\+\):.*/\1/p" "$ZSH_FILE" | grep -vx help | sort | tr '\n' ' ')
check "bash completes exactly the commands settle lists ($help_commands)" test "$bash_commands" = "$help_commands"
check "zsh completes exactly the commands settle lists" test "$zsh_commands" = "$help_commands"

for cmd in $help_commands; do
  want=$("$SETTLE" "$cmd" --help | grep -oE '^  (-[a-zA-Z], )?--[a-z-]+' | sed 's/.*--/--/' | sort | tr '\n' ' ')
  have_bash=$(sed -n "s/^        \[$cmd\]=\"\(.*\)\"$/\1/p" "$BASH_FILE" | tr ' ' '\n' | sort | tr '\n' ' ')
  have_zsh=$(sed -n "s/^  $cmd '\(.*\)'$/\1/p" "$ZSH_FILE" | tr ' ' '\n' | sort | tr '\n' ' ')
  check "bash completes the options of settle $cmd" test "$have_bash" = "$want"
  check "zsh completes the options of settle $cmd" test "$have_zsh" = "$want"
done
check "bash accepts the completion script" bash -n "$BASH_FILE"
done_testing
