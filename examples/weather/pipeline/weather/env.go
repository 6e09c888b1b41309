package weather

import (
	"fmt"
	"os"
	"strconv"
)

// ParamFloat reads a podium param (PODIUM_PARAM_<NAME>), or def when the
// program runs outside podium.
func ParamFloat(name string, def float64) (float64, error) {
	v := os.Getenv("PODIUM_PARAM_" + name)
	if v == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, fmt.Errorf("PODIUM_PARAM_%s=%q: not a number", name, v)
	}
	return f, nil
}

// ParamUint reads a non-negative integer podium param, or def.
func ParamUint(name string, def uint64) (uint64, error) {
	v := os.Getenv("PODIUM_PARAM_" + name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("PODIUM_PARAM_%s=%q: not a non-negative integer", name, v)
	}
	return n, nil
}
