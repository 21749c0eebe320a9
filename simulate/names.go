package simulate

import (
	"fmt"
	"math/rand/v2"
)

// Invented company names. Any likeness to a real company is accidental.
var (
	namePrefixes = []string{
		"Northwind", "Bluefin", "Granite Peak", "Helios", "Larkspur", "Copperline",
		"Meridian", "Stillwater", "Ironbark", "Juniper", "Brightwell", "Cobalt Ridge",
		"Foxglove", "Harborview", "Kestrel", "Lumen", "Marlow", "Nimbus", "Oakhurst",
		"Pinecrest", "Quarry Lane", "Redwood Bay", "Saltmarsh", "Tidewater", "Umber",
		"Vantage Hill", "Westbrook", "Yarrow", "Zephyr", "Alder", "Birchmont", "Cinder",
		"Driftwood", "Elmstead", "Fairhaven", "Glasswing", "Hollowell", "Inkwell",
		"Jetstream", "Keystone Vale", "Lanternfish", "Mosswood", "Northgate", "Orchard Row",
		"Palisade", "Quillon", "Riverbend", "Sablewood", "Thornbury", "Upland", "Velvet Sky",
		"Wrenfield", "Ashgrove", "Bramble", "Crestfall", "Dunmore", "Emberly", "Fernhill",
	}
	nameSuffixes = []string{
		"Freight", "Health", "Analytics", "Foods", "Robotics", "Capital", "Labs",
		"Logistics", "Energy", "Insurance", "Learning", "Retail", "Biotech", "Media",
		"Manufacturing", "Travel", "Legal", "Payments", "Security", "Systems",
		"Hospitality", "Construction", "Telecom", "Clinics", "Marine", "Software",
	}
	deNames = []string{
		"Brandt & Söhne Maschinenbau", "Kessler Logistik", "Hofmann Medizintechnik",
		"Lindenberg Versicherung", "Adler Präzisionsteile", "Weber Energiesysteme",
		"Falkenstein Bau", "Nordlicht Software", "Rheinauer Handel", "Schwarzwald Reisen",
	}
	frNames = []string{
		"Atelier Moreau", "Groupe Lavande", "Transports Beaumont", "Clinique Saint-Rémy",
		"Éditions Caravelle", "Banque Rivoli", "Laboratoires Vernay", "Maison Dufresne",
	}
	zhNames = []string{
		"青云科技", "上海云帆数据", "Hangzhou Qiantang Robotics", "深圳联和物流",
		"Chengdu Jinsha Health", "北京星河教育", "Suzhou Pingjiang Textiles", "广州南风医疗",
	}
	defaultOwners = []string{"dana", "li.wei", "marco", "priya", "sam.okafor"}
	successGoals  = []string{
		"Cut month-end close from 10 days to 5",
		"Replace spreadsheets for field-service scheduling",
		"Raise first-contact resolution to 80%",
		"Onboard new hires in under two weeks",
		"One dashboard for all regional sales teams",
		"Reduce shipment exceptions by 30%",
		"Automate compliance evidence collection before the audit",
		"Get every clinic on the same patient-intake flow",
		"Halve time spent on manual invoice matching",
		"Self-serve reporting for the marketing team",
	}
	contactFirst = []string{"Jane", "Omar", "Mei", "Lukas", "Chloé", "Ravi", "Sofia", "Tom", "Aiko", "Ben"}
	contactLast  = []string{"Ortiz", "Haddad", "Chen", "Becker", "Girard", "Nair", "Rossi", "Walsh", "Sato", "Kowalski"}
)

// companyName picks a name for account i that suits its language. Names
// repeat only after the lists are exhausted, and then get a number.
func companyName(rng *rand.Rand, lang string, used map[string]bool) string {
	var pick func() string
	switch lang {
	case "de":
		pick = func() string { return deNames[rng.IntN(len(deNames))] + " GmbH" }
	case "fr":
		pick = func() string { return frNames[rng.IntN(len(frNames))] + " SA" }
	case "zh":
		pick = func() string { return zhNames[rng.IntN(len(zhNames))] }
	default:
		pick = func() string {
			return namePrefixes[rng.IntN(len(namePrefixes))] + " " + nameSuffixes[rng.IntN(len(nameSuffixes))]
		}
	}
	for range 20 {
		if n := pick(); !used[n] {
			used[n] = true
			return n
		}
	}
	base := pick()
	for i := 2; ; i++ {
		if n := fmt.Sprintf("%s %d", base, i); !used[n] {
			used[n] = true
			return n
		}
	}
}

// contact invents a customer contact with an e-mail address and phone number
// on reserved example domains and fictional number ranges.
func contact(rng *rand.Rand, company string) (name, email, phone string) {
	f, l := contactFirst[rng.IntN(len(contactFirst))], contactLast[rng.IntN(len(contactLast))]
	domain := "customer.example"
	email = fmt.Sprintf("%s.%s@%s", lower(f), lower(l), domain)
	phone = fmt.Sprintf("+1 415 555 %04d", rng.IntN(10000))
	return f + " " + l, email, phone
}

func lower(s string) string {
	b := []rune(s)
	for i, r := range b {
		if r >= 'A' && r <= 'Z' {
			b[i] = r + 'a' - 'A'
		}
		if r == 'é' {
			b[i] = 'e'
		}
	}
	return string(b)
}
