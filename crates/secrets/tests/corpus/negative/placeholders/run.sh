curl -u "$USER:$PASS" https://repo.internal/
psexec \\srv -u %U% -p %P% cmd
