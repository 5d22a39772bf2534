package callrecord

import (
	"math"
	"time"
)

// The estimated MOS of one direction: a simplified ITU-T G.107 E-model for
// G.711 (docs/CALL_RECORDS.md explains each step and its sources).
const (
	r0Simplified = 93.2 // R with the defaults of G.107 and no impairment
	bplG711PLC   = 25.1 // packet-loss robustness of G.711 with concealment (G.113 App. I)
	frameDelayMS = 20.0 // one frame of packetisation
)

// EstimateMOS turns a direction's loss ratio (0-1), interarrival jitter
// and one-way network delay (0 when unknown) into a MOS from 1 to 4.5.
func EstimateMOS(loss float64, jitter, oneWay time.Duration) float64 {
	return mosFromR(rFactor(loss, jitter, oneWay))
}

// rFactor is R = R0 - Id - Ie,eff. The delay is the network's, plus a
// jitter buffer holding twice the jitter, plus a frame; Id is the
// Cole-Rosenbluth fit of G.107's delay impairment; Ie,eff is G.107's
// formula with Ie = 0 (G.711) and random loss (BurstR = 1).
func rFactor(loss float64, jitter, oneWay time.Duration) float64 {
	d := ms(oneWay) + 2*ms(jitter) + frameDelayMS
	id := 0.024 * d
	if d > 177.3 {
		id += 0.11 * (d - 177.3)
	}
	ppl := math.Min(math.Max(loss, 0), 1) * 100
	ie := 95 * ppl / (ppl + bplG711PLC)
	return r0Simplified - id - ie
}

// mosFromR is G.107's mapping (Annex B).
func mosFromR(r float64) float64 {
	switch {
	case r <= 0:
		return 1
	case r >= 100:
		return 4.5
	}
	return 1 + 0.035*r + r*(r-60)*(100-r)*7e-6
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
