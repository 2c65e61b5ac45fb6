"""A small labelled set for generated headings, written for this project.

Each article is a list of (real heading, section text). Tests remove the headings (a run
of blank lines is all that is left, as on a printable page) and check how often the
heading the bot generates shares a content word with the editor's.
"""

from __future__ import annotations

ARTICLES: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Harbour town votes to rebuild its storm wall",
        [
            (
                "",
                "The town council of Port Ellery voted 6-1 on Monday to rebuild the harbour storm wall, "
                "which was breached twice last winter. The project will cost 14 million dollars and take two years.",
            ),
            (
                "Flood damage",
                "Last winter's storms pushed seawater into more than 200 homes near the quay. "
                "Flood damage to houses and shops was estimated at 6 million dollars. Several families are still "
                "living with relatives while their flooded homes dry out.",
            ),
            (
                "Paying for the wall",
                "The council will pay for the wall with a state resilience grant and a "
                "20-year bond. Property owners near the harbour will pay a small levy toward the bond. "
                "The grant covers about half of the cost of the wall.",
            ),
            (
                "Fishing fleet worries",
                "Skippers of the town's fishing fleet fear the works will close the inner "
                "harbour for months. The fleet lands most of its catch there in summer. Harbour officials promised "
                "a temporary landing stage for the fishing boats during construction.",
            ),
        ],
    ),
    (
        "City library extends opening hours after budget deal",
        [
            (
                "",
                "The Marlow city library will open on Sundays and stay open until 9 p.m. on weekdays from "
                "next month, after the council approved a budget deal on Thursday.",
            ),
            (
                "Longer hours",
                "The new opening hours add 18 hours a week across the main library and its three "
                "branches. Evening hours were the most requested change in a survey of library users. "
                "The longer hours will need eleven new part-time staff.",
            ),
            (
                "Student demand",
                "Students preparing for exams fill every study desk by mid-afternoon, librarians "
                "say. The library will add 40 study desks and bookable group rooms for students. "
                "Demand from students peaks in May and December.",
            ),
            (
                "Digital lending",
                "Loans of e-books and audiobooks have tripled since 2020. The library will spend "
                "part of the new budget on digital lending licences. Digital loans now make up a third of all loans.",
            ),
        ],
    ),
    (
        "Valley farmers brace for a second dry summer",
        [
            (
                "",
                "Farmers in the Arden valley are cutting their planting for a second year as reservoir levels "
                "stay far below normal after a dry winter.",
            ),
            (
                "Reservoir levels",
                "The valley's two reservoirs hold 38 percent of their capacity, the lowest "
                "spring reading in 30 years. Water managers expect reservoir levels to fall further by August. "
                "Irrigation allocations have been cut to half of the usual amount.",
            ),
            (
                "Crop choices",
                "Many growers are switching from maize to sorghum, a crop that needs less water. "
                "Others will leave a third of their fields fallow. Seed merchants report record sorghum sales "
                "and few orders for maize.",
            ),
            (
                "Help for growers",
                "The regional government offered low-interest loans to growers who lose more "
                "than a third of their harvest. Farm groups say the loans are welcome but too small. "
                "Growers will be able to apply for the loans from June.",
            ),
        ],
    ),
    (
        "Hospital opens new emergency department",
        [
            (
                "",
                "St Brigid's Hospital opened its rebuilt emergency department on Wednesday, doubling the number "
                "of treatment bays after years of overcrowding.",
            ),
            (
                "Waiting times",
                "Patients waited an average of six hours to be seen in the old department last year. "
                "Hospital managers expect the new layout to cut waiting times by a third. Waiting times will be "
                "published monthly on the hospital's website.",
            ),
            (
                "Nurse staffing",
                "The hospital hired 60 nurses for the expanded department, many recruited abroad. "
                "Nurse unions welcomed the hiring but warned that staffing on night shifts remains thin. "
                "Agency nurses still cover a fifth of night shifts.",
            ),
            (
                "Ambulance handovers",
                "Ambulance crews often waited hours outside the old department to hand over "
                "patients. A new ambulance bay with eight bays should end those delays. Ambulance handovers are now "
                "meant to take less than 30 minutes.",
            ),
        ],
    ),
    (
        "Tram line extension approved after long inquiry",
        [
            (
                "",
                "Planners have approved a four-mile extension of the city's tram line to the airport, ending a "
                "public inquiry that lasted more than two years.",
            ),
            (
                "Airport link",
                "Trams will reach the airport terminal every ten minutes, with a journey of 22 "
                "minutes from the central station. The airport link is expected to carry three million passengers "
                "a year. Airport managers have pledged money toward the new terminal stop.",
            ),
            (
                "Construction disruption",
                "Construction will close two main roads for up to eighteen months. "
                "Shop owners along the route fear the construction will keep customers away. The council has set "
                "up a compensation fund for businesses hit by the disruption.",
            ),
            (
                "Ticket prices",
                "A single ticket to the airport will cost 4 pounds, the same as any other trip on "
                "the network. Campaigners had feared higher ticket prices for airport journeys. Ticket prices will "
                "be frozen for the first year of service.",
            ),
        ],
    ),
]


def as_printable(sections: list[tuple[str, str]], keep_headings: bool) -> str:
    """The article as a printable page would give it: headings kept, or lost to blank lines."""
    parts = []
    for heading, text in sections:
        if heading and keep_headings:
            parts.append(heading.upper())
        elif heading:
            parts.append("\n")
        parts.append(text)
    return "\n\n".join(parts) + "\n"
