using FederatedPrompts.Client;
using FederatedPrompts.Client.Transport;
using FederatedPrompts.Core.Prompts;
using FederatedPrompts.Post.Privacy;
using FederatedPrompts.Protocol;
using FederatedPrompts.Protocol.V1;

namespace FederatedPrompts.Protocol.Tests;

/// <summary>Issue #16: the accountant a round's DP policy names, as the client reads it off the wire.</summary>
public class DpPolicyMessageTests
{
    static RoundTaskReply Train(string accountant) => new()
    {
        Action = RoundTaskReply.Types.Action.Train, RunId = "run", Round = 1, TotalRounds = 3, GlobalPromptVersion = "v1",
        GlobalPrompt = PromptMessages.ToMessage(new SoftPrompt([0f, 1f], 1, 2, "m")),
        Work = new LocalWork
        {
            Seed = 7,
            Soft = new SoftWork { Epochs = 1, BatchSize = 8, LearningRate = 0.5, Optimizer = "sgd", Dp = new V1.DpPolicy { ClipNorm = 1, Epsilon = 8, Accountant = accountant } },
        },
    };

    static Client.DpPolicy? PolicyOf(RoundTaskReply reply) =>
        ((SoftWorkSettings)Assert.IsType<NextStep.Train>(ClientMessages.ToNextStep(reply)).Round.Work).Dp;

    [Theory]
    [InlineData("prv", AccountantKind.Prv)]
    [InlineData("rdp", AccountantKind.Rdp)]
    [InlineData("", AccountantKind.Rdp)]   // a coordinator from before the field: its clients composed with RDP
    public void The_client_composes_with_the_accountant_the_round_names(string wire, AccountantKind expected) =>
        Assert.Equal(new Client.DpPolicy(1, 8, null, expected), PolicyOf(Train(wire)));

    [Fact]
    public void An_unknown_accountant_is_refused_with_the_round_named()
    {
        var error = Assert.Throws<InvalidDataException>(() => PolicyOf(Train("moments")));
        Assert.Equal("round 1: DP accountant must be one of prv, rdp, got 'moments'", error.Message);
    }
}
