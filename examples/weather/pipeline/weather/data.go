// Package weather is the example pipeline's model: it reads NOAA daily
// observations (vega-datasets weather.csv), turns them into features, and
// trains a multinomial logistic regression that predicts the day's weather
// (sun, rain, fog, drizzle, snow). The prepare, train and evaluate
// programs are thin wrappers over it.
package weather

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// Header is the CSV header every data file of the example has.
var Header = []string{"location", "date", "precipitation", "temp_max", "temp_min", "wind", "weather"}

// Day is one observation.
type Day struct {
	Location      string // "Seattle" or "New York"
	Date          time.Time
	Precipitation float64 // mm
	TempMax       float64 // °C
	TempMin       float64 // °C
	Wind          float64 // m/s
	Weather       string  // the label
}

// ReadFile reads a weather CSV file.
func ReadFile(path string) ([]Day, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	days, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return days, nil
}

// Read parses weather CSV: a header equal to Header, then one row per day.
func Read(r io.Reader) ([]Day, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(Header)
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("reading header: %w", err)
	}
	for i, h := range Header {
		if head[i] != h {
			return nil, fmt.Errorf("column %d is %q, want %q", i+1, head[i], h)
		}
	}
	var days []Day
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return days, nil
		}
		if err != nil {
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		d := Day{Location: rec[0], Weather: rec[6]}
		if d.Date, err = time.Parse(time.DateOnly, rec[1]); err != nil {
			return nil, fmt.Errorf("line %d: date: %w", line, err)
		}
		for i, p := range []*float64{&d.Precipitation, &d.TempMax, &d.TempMin, &d.Wind} {
			if *p, err = strconv.ParseFloat(rec[2+i], 64); err != nil {
				return nil, fmt.Errorf("line %d: %s: %w", line, Header[2+i], err)
			}
		}
		days = append(days, d)
	}
}

// WriteFile writes days as weather CSV, in the same format Read reads.
func WriteFile(path string, days []Day) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write(Header)
	for _, d := range days {
		w.Write([]string{
			d.Location, d.Date.Format(time.DateOnly),
			formatFloat(d.Precipitation), formatFloat(d.TempMax), formatFloat(d.TempMin), formatFloat(d.Wind),
			d.Weather,
		})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func formatFloat(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
