// Command prepare splits the weather observations by time: the years
// before -test-year train the model, -test-year evaluates it, so the
// evaluation looks like the future the model will see.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/podium-ml/podium/examples/weather/pipeline/weather"
)

func main() {
	in := flag.String("in", "data/weather.csv", "the observations")
	trainOut := flag.String("train", "data/train.csv", "where the training split goes")
	testOut := flag.String("test", "data/test.csv", "where the test split goes")
	testYear := flag.Int("test-year", 2015, "the year held out for evaluation")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("prepare: ")

	days, err := weather.ReadFile(*in)
	if err != nil {
		log.Fatal(err)
	}
	var train, test []weather.Day
	for _, d := range days {
		switch y := d.Date.Year(); {
		case y < *testYear:
			train = append(train, d)
		case y == *testYear:
			test = append(test, d)
		}
	}
	if len(train) == 0 || len(test) == 0 {
		log.Fatalf("%s: the split before/at %d leaves %d training and %d test rows", *in, *testYear, len(train), len(test))
	}
	for path, part := range map[string][]weather.Day{*trainOut: train, *testOut: test} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			log.Fatal(err)
		}
		if err := weather.WriteFile(path, part); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("prepare: %d rows: %d for training (before %d), %d for evaluation (%d)\n",
		len(days), len(train), *testYear, len(test), *testYear)
}
