using Microsoft.Extensions.Time.Testing;

namespace Stakeout.Dashboard.Tests;

public sealed class SpaceSavingTests
{
    [Fact]
    public void Add_ManyDistinctKeys_HoldsAtMostCapacityAndKeepsTheHeavyHitter()
    {
        var sketch = new SpaceSaving(8);
        var random = new Random(7);
        for (int i = 0; i < 10_000; i++)
        {
            // One key takes 30 % of the stream; the rest is noise over 5,000 keys.
            sketch.Add(random.NextDouble() < 0.3 ? "heavy" : "k" + random.Next(5000));
        }

        Assert.True(sketch.Count <= 8);
        Assert.Equal(10_000, sketch.Total);
        var top = sketch.Top(1)[0];
        Assert.Equal("heavy", top.Name);
        // Space-Saving never underestimates, and overestimates by at most its error bound.
        Assert.InRange(top.Count - top.Error, 2700, 3300);
    }

    [Fact]
    public void Top_FewKeys_ExactCountsInOrder()
    {
        var sketch = new SpaceSaving(4);
        sketch.Add("a", 5);
        sketch.Add("b", 7);
        sketch.Add("a", 3);

        var top = sketch.Top(10);

        Assert.Equal(["a", "b"], top.Select(t => t.Name));
        Assert.Equal([8L, 7L], top.Select(t => t.Count));
        Assert.All(top, t => Assert.Equal(0, t.Error));
    }
}

public sealed class ClassTimeSeriesTests
{
    [Fact]
    public void Add_PastTheWindow_OldBucketsLeaveAndOldTimesAreRefused()
    {
        var series = new ClassTimeSeries(buckets: 4, TimeSpan.FromSeconds(1), maxClasses: 8);
        var t0 = Fixtures.T0;
        Assert.True(series.Add(t0, "DDoS", 2));
        Assert.True(series.Add(t0.AddSeconds(1), "DDoS", 3));
        Assert.True(series.Add(t0.AddSeconds(5), "PortScan", 1));

        // The window is now seconds 2..5: both DDoS buckets have left it, and second 1 is refused.
        Assert.False(series.Add(t0.AddSeconds(1), "DDoS", 1));
        var view = series.View();
        Assert.Equal(t0.AddSeconds(2).ToUnixTimeMilliseconds(), view.StartMs);
        Assert.Equal([0L, 0, 0, 0], view.Counts[0]);
        Assert.Equal([0L, 0, 0, 1], view.Counts[1]);
    }

    [Fact]
    public void Add_MoreClassesThanColumns_RestShareOther()
    {
        var series = new ClassTimeSeries(buckets: 2, TimeSpan.FromSeconds(1), maxClasses: 3);
        foreach (string c in new[] { "a", "b", "c", "d", "e" })
        {
            series.Add(Fixtures.T0, c, 1);
        }

        var view = series.View();
        Assert.Equal(["a", "b", ClassTimeSeries.OtherClass], view.Classes);
        Assert.Equal(3, view.Counts[2][^1]);
    }
}

public sealed class DashboardStateTests
{
    private readonly FakeTimeProvider _time = new(Fixtures.T0);

    [Fact]
    public void Add_MoreThanTheRing_KeepsTheNewestAndForgetsTheOldest()
    {
        var state = new DashboardState(new DashboardLimits { RecentAlerts = 3 }, _time);
        for (int i = 0; i < 5; i++)
        {
            state.Add(Fixtures.Alert(src: "10.0.0." + i));
        }

        Assert.Null(state.Find(2));
        Assert.Equal("10.0.0.4", state.Find(5)!.SourceIp);
        Assert.Equal(["10.0.0.4", "10.0.0.3", "10.0.0.2"], state.Recent(AlertFilter.All, 10).Select(a => a.SourceIp));
        Assert.Equal(5, state.Stats().AlertsSeen);
    }

    [Fact]
    public void Recent_Filter_ByClassFamilySourcePrefixAndSeverity()
    {
        var state = new DashboardState(new DashboardLimits(), _time);
        state.Add(Fixtures.Alert("DDoS", "10.0.0.1", 1));
        state.Add(Fixtures.Alert("DoS Hulk", "10.0.1.1", 2));
        state.Add(Fixtures.Alert("PortScan", "192.168.0.9", 3));

        Assert.Equal(["DoS Hulk"], state.Recent(new AlertFilter(Class: "DoS"), 10).Select(a => a.Signature));
        Assert.Equal(["DoS Hulk", "DDoS"], state.Recent(new AlertFilter(Source: "10.0."), 10).Select(a => a.Signature));
        Assert.Equal(["DoS Hulk", "DDoS"], state.Recent(new AlertFilter(MaxSeverity: 2), 10).Select(a => a.Signature));
    }

    [Fact]
    public void Subscription_FasterThanThePage_SendsTheNewestAndCountsTheRest()
    {
        var state = new DashboardState(new DashboardLimits { SubscriberBuffer = 50 }, _time);
        using var sub = state.Subscribe(new AlertFilter(Class: "DDoS"));
        for (int i = 0; i < 200; i++)
        {
            state.Add(Fixtures.Alert(i % 2 == 0 ? "DDoS" : "PortScan", "10.0.0." + (i % 250)));
        }

        var (alerts, skipped) = sub.Take(10);

        // 100 DDoS alerts matched; 50 fit the buffer, 10 of those are sent: the newest, oldest first.
        Assert.Equal(10, alerts.Count);
        Assert.Equal(90, skipped);
        Assert.All(alerts, a => Assert.Equal("DDoS", a.Signature));
        Assert.Equal(199L, alerts[^1].Id);
        Assert.True(alerts.Zip(alerts.Skip(1)).All(p => p.First.Id < p.Second.Id));
        Assert.Equal(90, state.Stats().SampledOut);
        Assert.Equal(0, sub.Take(10).Skipped);
    }

    [Fact]
    public void Stats_CountsAndRates_FromAlertsAndCounterSamples()
    {
        var state = new DashboardState(new DashboardLimits(), _time);
        state.Add(Fixtures.Alert("DDoS", "10.0.0.1", count: 4));
        state.Add(Fixtures.Alert("DDoS", "10.0.0.2", count: 1));
        state.Record(new CounterSample(Fixtures.T0, 1000, 900, 0, 100, 5, 2));
        _time.Advance(TimeSpan.FromSeconds(2));
        state.Record(new CounterSample(Fixtures.T0.AddSeconds(2), 201_000, 200_800, 50, 150, 5, 2));

        var stats = state.Stats();

        Assert.Equal(5, stats.AlertFlowsSeen);
        Assert.Equal("10.0.0.1", stats.TopSources[0].Name);
        Assert.Equal(4, stats.TopSources[0].Count);
        Assert.Equal("192.168.10.50:80", stats.TopTargets[0].Name);
        var rate = Assert.Single(stats.Rates);
        Assert.Equal(100_000, rate.FlowsPerSecond);
        Assert.Equal(25, rate.DroppedPerSecond);
        Assert.Equal(25, rate.RejectedPerSecond);
        Assert.Equal(5, stats.AlertsOverTime.Counts[0].Sum());
        Assert.Equal("#ff7f0e", stats.Colors["DDoS"]);
    }

    [Fact]
    public void Add_ManyMadeUpLabels_MemoryStaysBounded()
    {
        var limits = new DashboardLimits { RecentAlerts = 100, MaxClasses = 8, SketchCapacity = 16 };
        var state = new DashboardState(limits, _time);
        for (int i = 0; i < 20_000; i++)
        {
            state.Add(Fixtures.Alert("label-" + i, "10." + (i / 65536 % 256) + "." + (i / 256 % 256) + "." + (i % 256), at: Fixtures.T0.AddMilliseconds(i)));
        }

        var stats = state.Stats();
        Assert.True(stats.AlertsOverTime.Classes.Count <= 8);
        Assert.True(stats.Colors.Count <= 9);
        Assert.True(stats.TopSources.Count <= limits.TopN);
        Assert.Equal(100, state.Recent(AlertFilter.All, 1000).Count);
        Assert.Equal(20_000, stats.AlertFlowsSeen);
    }
}

public sealed class AlertFilterTests
{
    [Theory]
    [InlineData("0")]
    [InlineData("4")]
    [InlineData("high")]
    public void Parse_BadSeverity_NamesIt(string severity)
    {
        var ex = Assert.Throws<ArgumentException>(() => AlertFilter.Parse(null, null, severity));
        Assert.Contains("severity must be 1, 2 or 3", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_OverlongSource_Refused() =>
        Assert.Throws<ArgumentException>(() => AlertFilter.Parse(null, new string('1', AlertFilter.MaxLength + 1), null));

    [Fact]
    public void Parse_Blanks_MatchEverything() =>
        Assert.Equal(AlertFilter.All, AlertFilter.Parse(" ", "", null));
}
