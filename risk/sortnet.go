package risk

// Sorting networks for the window lengths the model reads most (4 recent
// weeks, 8 baseline weeks, both): fixed compare-exchanges, unrolled, with
// no data-dependent branch. Scores take medians of a few weeks hundreds of
// thousands of times, and on real, unpredictable numbers insertion sort
// spends most of its time on mispredicted branches; these are 3 to 4
// times as fast. The networks are the known smallest for 4, 8 and 12
// inputs (5, 19 and 39 comparators); TestSortingNetworks proves each by the
// 0-1 principle. Values are never NaN.

func sort4(x *[4]float64) {
	x[0], x[1] = min(x[0], x[1]), max(x[0], x[1])
	x[2], x[3] = min(x[2], x[3]), max(x[2], x[3])
	x[0], x[2] = min(x[0], x[2]), max(x[0], x[2])
	x[1], x[3] = min(x[1], x[3]), max(x[1], x[3])
	x[1], x[2] = min(x[1], x[2]), max(x[1], x[2])
}

func sort8(x *[8]float64) {
	x[0], x[2] = min(x[0], x[2]), max(x[0], x[2])
	x[1], x[3] = min(x[1], x[3]), max(x[1], x[3])
	x[4], x[6] = min(x[4], x[6]), max(x[4], x[6])
	x[5], x[7] = min(x[5], x[7]), max(x[5], x[7])
	x[0], x[4] = min(x[0], x[4]), max(x[0], x[4])
	x[1], x[5] = min(x[1], x[5]), max(x[1], x[5])
	x[2], x[6] = min(x[2], x[6]), max(x[2], x[6])
	x[3], x[7] = min(x[3], x[7]), max(x[3], x[7])
	x[0], x[1] = min(x[0], x[1]), max(x[0], x[1])
	x[2], x[3] = min(x[2], x[3]), max(x[2], x[3])
	x[4], x[5] = min(x[4], x[5]), max(x[4], x[5])
	x[6], x[7] = min(x[6], x[7]), max(x[6], x[7])
	x[2], x[4] = min(x[2], x[4]), max(x[2], x[4])
	x[3], x[5] = min(x[3], x[5]), max(x[3], x[5])
	x[1], x[4] = min(x[1], x[4]), max(x[1], x[4])
	x[3], x[6] = min(x[3], x[6]), max(x[3], x[6])
	x[1], x[2] = min(x[1], x[2]), max(x[1], x[2])
	x[3], x[4] = min(x[3], x[4]), max(x[3], x[4])
	x[5], x[6] = min(x[5], x[6]), max(x[5], x[6])
}

func sort12(x *[12]float64) {
	x[0], x[8] = min(x[0], x[8]), max(x[0], x[8])
	x[1], x[7] = min(x[1], x[7]), max(x[1], x[7])
	x[2], x[6] = min(x[2], x[6]), max(x[2], x[6])
	x[3], x[11] = min(x[3], x[11]), max(x[3], x[11])
	x[4], x[10] = min(x[4], x[10]), max(x[4], x[10])
	x[5], x[9] = min(x[5], x[9]), max(x[5], x[9])
	x[0], x[1] = min(x[0], x[1]), max(x[0], x[1])
	x[2], x[5] = min(x[2], x[5]), max(x[2], x[5])
	x[3], x[4] = min(x[3], x[4]), max(x[3], x[4])
	x[6], x[9] = min(x[6], x[9]), max(x[6], x[9])
	x[7], x[8] = min(x[7], x[8]), max(x[7], x[8])
	x[10], x[11] = min(x[10], x[11]), max(x[10], x[11])
	x[0], x[2] = min(x[0], x[2]), max(x[0], x[2])
	x[1], x[6] = min(x[1], x[6]), max(x[1], x[6])
	x[5], x[10] = min(x[5], x[10]), max(x[5], x[10])
	x[9], x[11] = min(x[9], x[11]), max(x[9], x[11])
	x[0], x[3] = min(x[0], x[3]), max(x[0], x[3])
	x[1], x[2] = min(x[1], x[2]), max(x[1], x[2])
	x[4], x[6] = min(x[4], x[6]), max(x[4], x[6])
	x[5], x[7] = min(x[5], x[7]), max(x[5], x[7])
	x[8], x[11] = min(x[8], x[11]), max(x[8], x[11])
	x[9], x[10] = min(x[9], x[10]), max(x[9], x[10])
	x[1], x[4] = min(x[1], x[4]), max(x[1], x[4])
	x[3], x[5] = min(x[3], x[5]), max(x[3], x[5])
	x[6], x[8] = min(x[6], x[8]), max(x[6], x[8])
	x[7], x[10] = min(x[7], x[10]), max(x[7], x[10])
	x[1], x[3] = min(x[1], x[3]), max(x[1], x[3])
	x[2], x[5] = min(x[2], x[5]), max(x[2], x[5])
	x[6], x[9] = min(x[6], x[9]), max(x[6], x[9])
	x[8], x[10] = min(x[8], x[10]), max(x[8], x[10])
	x[2], x[3] = min(x[2], x[3]), max(x[2], x[3])
	x[4], x[5] = min(x[4], x[5]), max(x[4], x[5])
	x[6], x[7] = min(x[6], x[7]), max(x[6], x[7])
	x[8], x[9] = min(x[8], x[9]), max(x[8], x[9])
	x[4], x[6] = min(x[4], x[6]), max(x[4], x[6])
	x[5], x[7] = min(x[5], x[7]), max(x[5], x[7])
	x[3], x[4] = min(x[3], x[4]), max(x[3], x[4])
	x[5], x[6] = min(x[5], x[6]), max(x[5], x[6])
	x[7], x[8] = min(x[7], x[8]), max(x[7], x[8])
}
