# The main job on built-in defaults: pretrain a small teacher on a generated corpus and evaluate it.
# Thin wrapper over the CLI; extra arguments go to `fedprompt pretrain` (see `--help`).
$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot
dotnet run --project src/FederatedPrompts.Cli -c Release -- simulate @args
exit $LASTEXITCODE
