using System.Security.Cryptography;
using System.Text;
using FederatedPrompts.Coordinator.Hosting;
using FederatedPrompts.Coordinator.Rounds;
using FederatedPrompts.Core.Prompts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FederatedPrompts.Coordinator.Operations;

/// <summary>
/// The operator's read-only page on the ops listener: the run, each round (updates, timings, held-out accuracy, prompt
/// length), the clients (alive, last seen, ε spent) and the accuracy curve, refreshed every two seconds from
/// <c>/dashboard/api/state</c>. Both need the token the coordinator prints at start (or reads from a file): the page
/// takes it as <c>?token=</c> and sends it back as a bearer token. Clients never see the ops listener's paths on the
/// federation's port (<see cref="CoordinatorListeners.Serves"/>). The page writes every value as text, never as HTML,
/// so an identity or an activity string a client chose cannot inject markup.
/// </summary>
public static class Dashboard
{
    public const string StatePath = CoordinatorListeners.DashboardPath + "/api/state";

    /// <summary>A new random token (256 bits, URL-safe).</summary>
    public static string NewToken() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder app, string token, RunHost runs, TimeProvider time)
    {
        byte[] expected = Encoding.UTF8.GetBytes(token);
        bool Authorized(HttpRequest request)
        {
            string? given = request.Query["token"].FirstOrDefault();
            if (given is null && request.Headers.Authorization.FirstOrDefault() is { } header && header.StartsWith("Bearer ", StringComparison.Ordinal))
                given = header["Bearer ".Length..];
            return given is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), expected);
        }
        IResult Refused() => Results.Text("the dashboard needs the token the coordinator printed at start: /dashboard?token=…\n", statusCode: StatusCodes.Status401Unauthorized);

        app.MapGet(CoordinatorListeners.DashboardPath, (HttpRequest request) => Authorized(request)
            ? Results.Stream(typeof(Dashboard).Assembly.GetManifestResourceStream("dashboard.html")!, "text/html; charset=utf-8")
            : Refused());
        app.MapGet(StatePath, (HttpRequest request) => Authorized(request)
            ? Results.Json(State(runs.Current?.Engine.Overview(), time.GetUtcNow()))
            : Refused());
        return app;
    }

    /// <summary>What the page shows, as JSON (snake_case); null run when the coordinator has none yet.</summary>
    public static object State(RunOverview? overview, DateTimeOffset now)
    {
        if (overview is null) return new { now, run = (object?)null };
        var run = overview.Run;
        var uploads = overview.ClientUploads.ToDictionary(c => c.ClientId);
        return new
        {
            now,
            run = new
            {
                id = run.RunId, state = Word(run.State), mode = run.Config.Mode, round = run.CurrentRound, rounds = run.Config.Rounds,
                min_clients = run.Config.MinClients, admitted = run.Config.Clients.Count, created_at = run.CreatedAt, error = run.Error,
            },
            rounds = overview.Rounds.Select(r => new
            {
                round = r.Round, state = Word(r.State), sampled = r.Sampled.Count, uploads = overview.UploadsIn(r.Round),
                opened_at = r.OpenedAt, closed_at = r.ClosedAt, seconds = ((r.ClosedAt ?? now) - r.OpenedAt).TotalSeconds,
                modes = r.Modes.Select(m => new
                {
                    mode = Prompt.NameOf(m.Key), uploads = overview.UploadsIn(r.Round, m.Key), accuracy = m.Value.Accuracy,
                    prompt_length = m.Value.PromptOut?.Length ?? m.Value.PromptIn.Length,
                }),
            }),
            clients = overview.Clients.Select(c => new
            {
                id = c.ClientId, mode = Prompt.NameOf(c.Mode), examples = c.ExampleCount, last_seen = c.LastSeen,
                seconds_since_seen = (now - c.LastSeen).TotalSeconds, alive = now - c.LastSeen <= CoordinatorMetrics.AliveWindow, activity = c.Activity,
                uploads = uploads.GetValueOrDefault(c.ClientId)?.Count ?? 0, epsilon = uploads.GetValueOrDefault(c.ClientId)?.LastSpend?.EpsilonTotal,
            }),
        };
    }

    static string Word<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();
}
