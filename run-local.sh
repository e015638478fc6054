#!/usr/bin/env bash
# The main job on built-in defaults: a federated simulation (`fedprompt simulate`): coordinator and clients over
# mutual TLS on 127.0.0.1, soft-prompt rounds and POST's transfer. Extra arguments go to `fedprompt simulate` (see `--help`).
set -euo pipefail
cd "$(dirname "$0")"
exec dotnet run --project src/FederatedPrompts.Cli -c Release -- simulate "$@"
