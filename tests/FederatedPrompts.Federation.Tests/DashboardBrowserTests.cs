using FederatedPrompts.Client;
using FederatedPrompts.Client.Transport;
using FederatedPrompts.Client.Work;
using FederatedPrompts.Coordinator.Hosting;
using FederatedPrompts.Coordinator.Storage;
using FederatedPrompts.Protocol.V1;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace FederatedPrompts.Federation.Tests;

/// <summary>
/// Issue #14: the operator's dashboard in a real headless browser (Debian's Chromium, driven by Playwright) while a run
/// goes on over mutual TLS: one page load follows the run from created to finished, and shows what the store holds.
/// </summary>
public class DashboardBrowserTests(TinyFederation setting, ITestOutputHelper output) : IClassFixture<TinyFederation>
{
    const string Token = "dashboard-test-token-0123456789abcdef";
    /// <summary>Markup a client chose as its activity: the page must show it as text, never build it.</summary>
    const string HostileActivity = "<img id=\"injected\" src=\"x\" onerror=\"document.title='pwned'\">";

    [ChromiumFact]
    public async Task The_page_follows_a_run_live_and_shows_what_the_store_holds()
    {
        await using var coordinator = CoordinatorHost.Create(new CoordinatorOptions
        {
            Transport = new CoordinatorTransport(new Uri("https://127.0.0.1:0"), setting.CoordinatorTls, Insecure: false),
            Database = setting.Combine($"dashboard-{Guid.NewGuid():N}.db"), Config = setting.Config("soft"), Hold = true,
            OpsListen = new Uri("http://127.0.0.1:0"), DashboardToken = Token,
        }, logs => logs.AddProvider(new TestOutputLoggerProvider(output)));
        await coordinator.StartAsync();

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ChromiumFactAttribute.Chromium, Headless = true,
            // This machine's network is closed: without these Chromium keeps trying to reach Google's services.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var page = await browser.NewPageAsync();
        page.Console += (_, message) => output.WriteLine($"page console: {message.Text}");
        await page.GotoAsync(new Uri(coordinator.OpsAddress!, $"dashboard?token={Token}").ToString());
        string runId = coordinator.Runs.Current!.Engine.RunId;
        await Expect(page.Locator("#run-id")).ToHaveTextAsync(runId);
        await Expect(page.Locator("#run-state")).ToHaveTextAsync("created");
        await Expect(page.Locator("#run-round")).ToHaveTextAsync("0 / 2");

        // A client enrols and reports markup as its activity: the page shows it alive, with the markup as text.
        using var channel = CoordinatorChannel.Create(coordinator.Address, setting.Tls("client-1"), insecure: false, null);
        var federation = new Protocol.V1.Federation.FederationClient(channel);
        var enrolled = await federation.EnrolAsync(new EnrolRequest { Mode = Mode.Soft, ExampleCount = setting.Data(0).Examples.Count });
        await federation.HeartbeatAsync(new HeartbeatRequest { RunId = enrolled.RunId, Activity = HostileActivity });
        var row = page.Locator("tr[data-client='client-1']");
        await Expect(row.Locator("[data-field=activity]")).ToHaveTextAsync(HostileActivity);
        await Expect(row.Locator("[data-field=alive]")).ToHaveTextAsync("alive");
        await Expect(page.Locator("#injected")).ToHaveCountAsync(0);
        Assert.NotEqual("pwned", await page.TitleAsync());

        // The operator starts the run and the clients train; the same page load follows it to the end.
        var clients = Task.WhenAll(TinyFederation.Clients.Select((id, k) => new ClientLoop(
            CoordinatorChannel.Create(coordinator.Address, setting.Tls(id), insecure: false, null).CreateCallInvoker(), new SoftLocalWork(setting.Data(k)),
            new ClientLoopOptions { Identity = id, CacheDirectory = setting.Combine("cache"), StateDirectory = setting.Combine($"state-dashboard-{id}") })
            .RunAsync(new Progress<ClientEvent>(_ => { }))));
        coordinator.Runs.Start();
        await clients.WaitAsync(TimeSpan.FromMinutes(3));
        await TinyFederation.UntilOver(coordinator.Runs.Current!.Engine, TimeSpan.FromMinutes(2));
        await Expect(page.Locator("#run-state")).ToHaveTextAsync("finished", new() { Timeout = 30_000 });
        await Expect(page.Locator("#run-round")).ToHaveTextAsync("2 / 2");

        // Rounds, the accuracy curve and the clients as the store has them.
        var run = coordinator.Runs.Current!.Engine.Snapshot();
        Assert.Equal(RunState.Finished, run.Run.State);
        var rows = page.Locator("#rounds tbody tr");
        await Expect(rows).ToHaveCountAsync(run.Rounds.Count);
        for (int i = 0; i < run.Rounds.Count; i++)
        {
            var round = run.Rounds[i];
            double accuracy = round.Modes.Values.Single().Accuracy!.Value;
            await Expect(rows.Nth(i).Locator("[data-field=round]")).ToHaveTextAsync(round.Round.ToString());
            await Expect(rows.Nth(i).Locator("[data-field=state]")).ToHaveTextAsync("closed");
            await Expect(rows.Nth(i).Locator("[data-field=uploads]")).ToHaveTextAsync(run.UploadsIn(round.Round).ToString());
            await Expect(rows.Nth(i).Locator("[data-field=accuracy]")).ToHaveTextAsync($"{100 * accuracy:F1} %");
            await Expect(page.Locator($"#curve circle[data-round='{round.Round}']")).ToHaveAttributeAsync("data-accuracy",
                accuracy.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        foreach (string id in TinyFederation.Clients)
            await Expect(page.Locator($"tr[data-client='{id}'] [data-field=uploads]")).ToHaveTextAsync(run.Updates.Count(u => u.ClientId == id).ToString());
    }
}

/// <summary>Runs where Debian's Chromium is installed (.ci/run installs it); the reason says so where it is not.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public const string Chromium = "/usr/bin/chromium";

    public ChromiumFactAttribute() { if (!File.Exists(Chromium)) Skip = $"needs Debian's Chromium at {Chromium} (apt-get install chromium; .ci/run installs it)"; }
}
