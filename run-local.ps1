# The main job on built-in defaults: a federated simulation (`fedprompt simulate`): coordinator and clients over
# mutual TLS on 127.0.0.1, soft-prompt rounds and POST's transfer. Extra arguments go to `fedprompt simulate` (see `--help`).
$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot
dotnet run --project src/FederatedPrompts.Cli -c Release -- simulate @args
exit $LASTEXITCODE
