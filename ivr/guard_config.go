package ivr

import (
	"fmt"

	"github.com/dialin/dialin/config"
)

// GuardOptionsFrom reads the guard's options from the configuration: the
// ivr.guess_* and ivr.carrier_guess_* fields and sip.carrier_networks.
func GuardOptionsFrom(v config.IVR, carrierNetworks []string) (GuardOptions, error) {
	o := GuardOptions{
		Limit: v.GuessLimit, Window: v.GuessWindow, Cooloff: v.GuessCooloff,
		CarrierInterval: v.CarrierGuessInterval, CarrierBurst: v.CarrierGuessBurst, CarrierMaxWait: v.CarrierGuessMaxWait,
	}
	for i, n := range carrierNetworks {
		p, err := config.ParseNetwork(n)
		if err != nil {
			return GuardOptions{}, fmt.Errorf("sip.carrier_networks[%d]: %w", i, err)
		}
		o.Carriers = append(o.Carriers, p)
	}
	return o, nil
}
