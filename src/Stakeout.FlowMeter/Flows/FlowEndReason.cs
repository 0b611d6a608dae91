namespace Stakeout.FlowMeter.Flows;

/// <summary>Why a flow was reported.</summary>
public enum FlowEndReason
{
    /// <summary>A packet came more than the flow timeout after the flow's start, or the packet clock passed that point.</summary>
    FlowTimeout,
    /// <summary>CICFlowMeter mode: a packet with FIN set ended the flow (that packet included).</summary>
    Fin,
    /// <summary>Corrected mode: a packet with RST set ended the flow (that packet included).</summary>
    Rst,
    /// <summary>Corrected mode: both sides sent FIN and the last one was acknowledged.</summary>
    TcpClosed,
    /// <summary>The capture or live source ended with the flow still open.</summary>
    EndOfCapture,
    /// <summary>The flow table was full and this was its oldest flow.</summary>
    Evicted,
    /// <summary>Not an end: an interim report of a long flow (see <see cref="FlowMeterOptions.EmitInterval"/>).</summary>
    Interval,
}
