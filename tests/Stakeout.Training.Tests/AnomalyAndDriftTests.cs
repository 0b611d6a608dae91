using Stakeout.Core;
using Stakeout.Models.Anomaly;
using Stakeout.Models.Drift;

namespace Stakeout.Training.Tests;

/// <summary>Fitting the anomaly model and the training profile, and judging windows of flows against the profile.</summary>
public sealed class AnomalyAndDriftTests
{
    private static readonly int[] Features = [FeatureSchema.FlowDuration, FeatureSchema.TotalFwdPackets, 20];

    /// <summary>Synthetic flows: two classes with their own log-normal features; <paramref name="shift"/> multiplies every value.</summary>
    private static (float[] Rows, int[] Labels) Flows(int n, int seed, double shift = 1, double attackShare = 0.3)
    {
        var random = new Random(seed);
        var rows = new float[n * FeatureSchema.Count];
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            int label = random.NextDouble() < attackShare ? 1 : 0;
            labels[i] = label;
            for (int j = 0; j < Features.Length; j++)
            {
                double mean = label == 0 ? 3 + j : 7 - j;
                double normal = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
                rows[(i * FeatureSchema.Count) + Features[j]] = (float)(Math.Exp(mean + (0.5 * normal)) * shift);
            }
        }

        return (rows, labels);
    }

    private static float[] Benign(float[] rows, int[] labels) =>
        [.. Enumerable.Range(0, labels.Length).Where(i => labels[i] == 0).SelectMany(i => rows.AsSpan(i * FeatureSchema.Count, FeatureSchema.Count).ToArray())];

    private static DriftReport Judge(TrainingProfile profile, float[] rows, int[] labels, double anomalyThreshold = double.NaN, AnomalyScorer? anomaly = null)
    {
        var window = new DriftWindow(profile, new DriftOptions { WindowFlows = labels.Length }, anomalyThreshold);
        for (int i = 0; i < labels.Length; i++)
        {
            var row = rows.AsSpan(i * FeatureSchema.Count, FeatureSchema.Count);
            // A perfect classifier: the window's class mix is its true one.
            float[] p = labels[i] == 0 ? [1f, 0f] : [0f, 1f];
            window.Add(row, p, 0, anomaly?.ScoreRow(row) ?? float.NaN);
        }

        return window.Close()!;
    }

    [Fact]
    public void Fit_BenignRows_ThresholdKeepsOutOfFoldFprAtTarget()
    {
        var (rows, labels) = Flows(4000, 1, attackShare: 0);
        var settings = new AnomalySettings { TargetFpr = 0.01 };

        var (model, oof) = AnomalyTraining.Fit(rows, Features, settings, seed: 1);

        Assert.Equal(4000, oof.Length);
        Assert.InRange(oof.Count(s => s >= model.Threshold), 1, 40);
        Assert.Equal(Features, model.Features);
        Assert.Contains("out-of-fold", model.ThresholdSource, StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_ThenScore_ShiftedFlowsScoreHigherThanUnseenBenignOnes()
    {
        var (rows, labels) = Flows(4000, 1, attackShare: 0);
        var (model, _) = AnomalyTraining.Fit(rows, Features, new AnomalySettings(), seed: 1);
        var scorer = AnomalyScorer.Compile(model, "test");
        var (fresh, _) = Flows(1000, 2, attackShare: 0);
        var (shifted, _) = Flows(1000, 3, shift: 50, attackShare: 0);

        double High(float[] r) => Enumerable.Range(0, 1000).Count(i => scorer.ScoreRow(r.AsSpan(i * FeatureSchema.Count, FeatureSchema.Count)) >= model.Threshold) / 1000.0;

        Assert.InRange(High(fresh), 0, 0.03);
        Assert.InRange(High(shifted), 0.9, 1);
    }

    [Fact]
    public void Fit_TooFewBenignRows_RefusedWithTheCount()
    {
        var (rows, _) = Flows(20, 1, attackShare: 0);

        var e = Assert.Throws<TrainingDataException>(() => AnomalyTraining.Fit(rows, Features, new AnomalySettings(), 1));

        Assert.Contains("there are 20", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DriftWindow_UnshiftedSyntheticStream_DoesNotWarn()
    {
        var (rows, labels) = Flows(5000, 1);
        var profile = AnomalyTraining.Profile(rows, labels, ["BENIGN", "ATTACK"], Features, 0.005);
        var (live, liveLabels) = Flows(1000, 9);

        var report = Judge(profile, live, liveLabels);

        Assert.False(report.IsDrift, report.Describe());
        Assert.Empty(report.Drifted);
        Assert.InRange(report.MaxDivergence, 0, 0.1);
    }

    [Fact]
    public void DriftWindow_AnotherClassMix_DoesNotWarn()
    {
        // Training is 30 % attacks; a window of 90 % attacks is still training-like, because the expected shares are the
        // class profiles mixed as the window's own class probabilities say.
        var (rows, labels) = Flows(5000, 1);
        var profile = AnomalyTraining.Profile(rows, labels, ["BENIGN", "ATTACK"], Features, 0.005);
        var (live, liveLabels) = Flows(1000, 9, attackShare: 0.9);

        Assert.False(Judge(profile, live, liveLabels).IsDrift);
    }

    [Fact]
    public void DriftWindow_ShiftedSyntheticStream_WarnsNamingTheShiftedFeatures()
    {
        var (rows, labels) = Flows(5000, 1);
        var profile = AnomalyTraining.Profile(rows, labels, ["BENIGN", "ATTACK"], Features, 0.005);
        var (live, liveLabels) = Flows(1000, 9, shift: 20);

        var report = Judge(profile, live, liveLabels);

        Assert.True(report.IsDrift);
        Assert.Equal(Features.Select(f => FeatureSchema.Features[f].Name).Order(), report.Drifted.Select(f => f.Feature).Order());
        Assert.Contains("Flow Duration", report.Describe(), StringComparison.Ordinal);
        Assert.All(report.Drifted, f => Assert.True(f.Psi > 1, $"{f.Feature}: PSI {f.Psi}"));
    }

    [Fact]
    public void DriftWindow_HighAnomalyShareAmongBenign_Warns()
    {
        var (rows, labels) = Flows(5000, 1);
        var profile = AnomalyTraining.Profile(rows, labels, ["BENIGN", "ATTACK"], Features, 0.005);
        var (model, _) = AnomalyTraining.Fit(Benign(rows, labels), Features, new AnomalySettings(), 1);
        var scorer = AnomalyScorer.Compile(model, "test");
        var (unshifted, l1) = Flows(1000, 9);
        var (shifted, l2) = Flows(1000, 9, shift: 20);

        var quiet = Judge(profile, unshifted, l1, model.Threshold, scorer);
        var loud = Judge(profile, shifted, l2, model.Threshold, scorer);

        Assert.False(quiet.AnomalyDrift);
        Assert.InRange(quiet.AnomalyShare!.Value, 0, 0.05);
        Assert.True(loud.AnomalyDrift);
        Assert.InRange(loud.AnomalyShare!.Value, 0.9, 1);
    }

    [Fact]
    public void DriftWindow_SmallWindow_NeedsMoreDivergence()
    {
        var (rows, labels) = Flows(5000, 1);
        var profile = AnomalyTraining.Profile(rows, labels, ["BENIGN", "ATTACK"], Features, 0.005);
        var (live, liveLabels) = Flows(12, 4);

        var report = Judge(profile, live, liveLabels);

        Assert.All(report.Features, f => Assert.True(f.Critical > 1, $"{f.Feature}: critical {f.Critical} for 12 flows"));
        Assert.False(report.IsDrift, report.Describe());
    }

    [Fact]
    public void Profile_DuplicatedRows_CountedEveryTime()
    {
        var (rows, labels) = Flows(10, 1, attackShare: 0);
        int[] copies = [91, 1, 1, 1, 1, 1, 1, 1, 1, 1];

        var once = AnomalyTraining.Profile(rows, labels, ["BENIGN", "ATTACK"], Features, 0);
        var weighted = AnomalyTraining.Profile(rows, labels, ["BENIGN", "ATTACK"], Features, 0, copies);

        Assert.Equal(10, once.ClassRows[0]);
        Assert.Equal(100, weighted.ClassRows[0]);
        int bin = TrainingProfile.BinOf(weighted.Edges[0], rows[Features[0]]);
        Assert.True(weighted.Shares[0][0][bin] >= 0.91, $"the repeated row's bin holds {weighted.Shares[0][0][bin]}");
    }

    [Fact]
    public void ChiSquare999_KnownQuantiles_WithinOnePercent()
    {
        Assert.Equal(10.828, DriftWindow.ChiSquare999(1), 3);
        Assert.InRange(DriftWindow.ChiSquare999(9), 27.877 * 0.99, 27.877 * 1.01);
        Assert.InRange(DriftWindow.ChiSquare999(30), 59.703 * 0.99, 59.703 * 1.01);
    }
}
