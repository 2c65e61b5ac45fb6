"""Labelled article pairs for story grouping, written for this project.

`SAME`: one event reported by two outlets in their own words. `DIFFERENT`: two stories on
the same topic (same place, people or subject) that must stay apart. Each side is
(title, lead, outlet).
"""

from __future__ import annotations

Side = tuple[str, str, str]

SAME: list[tuple[Side, Side]] = [
    (
        (
            "Riverton council approves 40-megawatt solar farm on rail yard",
            "The Riverton city council voted 7-2 on Tuesday to build a 40-megawatt solar farm on the abandoned Eastside rail yard. The $68 million project will start next spring.",
            "Coast Ledger",
        ),
        (
            "Solar farm wins 7-2 vote in Riverton",
            "Riverton councillors backed a $68 million solar farm for the old Eastside rail yard by seven votes to two late Tuesday, ending years of debate over the empty site.",
            "Harbour Post",
        ),
    ),
    (
        (
            "Port Ellery to rebuild breached storm wall for $14 million",
            "Port Ellery's council voted on Monday to rebuild the harbour storm wall that failed twice last winter, at a cost of $14 million over two years.",
            "Coast Ledger",
        ),
        (
            "Storm wall rebuild approved after winter breaches",
            "The harbour wall in Port Ellery will be rebuilt for $14 million after councillors approved the plan on Monday. Seawater flooded 200 homes when it failed last winter.",
            "Bay Times",
        ),
    ),
    (
        (
            "St Brigid's opens new emergency department",
            "St Brigid's Hospital opened its rebuilt emergency department on Wednesday, doubling its treatment bays to 48 after years of overcrowding.",
            "City Daily",
        ),
        (
            "Hospital doubles emergency bays as new unit opens",
            "A new emergency department with 48 treatment bays opened at St Brigid's on Wednesday. Patients waited an average of six hours in the old unit last year.",
            "Metro News",
        ),
    ),
    (
        (
            "Tram extension to airport approved after two-year inquiry",
            "Planners approved a four-mile extension of the tram line to the airport on Thursday, ending a public inquiry that lasted more than two years.",
            "City Daily",
        ),
        (
            "Airport tram link gets green light",
            "The city's tram network will reach the airport after planners on Thursday approved the four-mile extension. Trams will run every ten minutes.",
            "Transport Weekly",
        ),
    ),
    (
        (
            "Arden valley farmers cut planting as reservoirs hit 38 percent",
            "Farmers in the Arden valley are planting less for a second year, with the valley's reservoirs at 38 percent of capacity, the lowest spring level in 30 years.",
            "Farm Gazette",
        ),
        (
            "Drought forces Arden growers to leave fields fallow",
            "With reservoirs in the Arden valley at just 38 percent, many growers will leave a third of their fields empty this summer, farm groups said on Monday.",
            "Valley Herald",
        ),
    ),
    (
        (
            "Marlow library to open Sundays after budget deal",
            "The Marlow city library will open on Sundays and until 9 p.m. on weekdays from next month after the council approved a budget deal on Thursday.",
            "Marlow Mercury",
        ),
        (
            "Longer library hours in Marlow from next month",
            "Marlow's library and its three branches will add 18 opening hours a week, including Sundays, under a budget agreed by the council on Thursday.",
            "City Daily",
        ),
    ),
    (
        (
            "Transport minister Alan Reyes resigns over rail tender",
            "Transport minister Alan Reyes resigned on Friday after an audit report criticised how his ministry awarded a $2.3 billion rail contract.",
            "National Wire",
        ),
        (
            "Reyes quits after audit of $2.3 billion rail deal",
            "Alan Reyes stepped down as transport minister on Friday, days after auditors found officials ignored two cheaper bids for a $2.3 billion rail contract.",
            "Capital Times",
        ),
    ),
    (
        (
            "Fire destroys historic Kellaway mill",
            "A fire on Sunday night destroyed the 180-year-old Kellaway textile mill, one of the oldest industrial buildings in the county. No one was injured.",
            "County Courier",
        ),
        (
            "180-year-old mill burns down in Kellaway",
            "Firefighters fought for six hours to control a blaze that gutted the Kellaway mill on Sunday. The 180-year-old building had been empty since 2004.",
            "Regional Press",
        ),
    ),
    (
        (
            "Central bank raises rates to 4.5 percent",
            "The central bank raised its main interest rate by a quarter point to 4.5 percent on Wednesday, its third increase this year, citing stubborn inflation.",
            "Business Daily",
        ),
        (
            "Rates rise again as bank fights inflation",
            "Borrowing costs rose to 4.5 percent on Wednesday when the central bank lifted its key rate for the third time in 2024, warning inflation remains too high.",
            "Money Wire",
        ),
    ),
    (
        (
            "Dunmere school closed after roof collapse",
            "Dunmere Primary School will stay closed for two weeks after part of its gym roof collapsed overnight on Tuesday. No pupils were in the building.",
            "County Courier",
        ),
        (
            "Gym roof caves in at Dunmere Primary",
            "Part of the roof of Dunmere Primary's gym fell in early on Tuesday, and the school will be shut for two weeks while engineers check the building.",
            "Local Voice",
        ),
    ),
    (
        (
            "Glenholm wins national cup in penalty shootout",
            "Glenholm Rovers won the national cup on Saturday, beating Fenwick City 5-4 on penalties after a 2-2 draw at the national stadium.",
            "Sports Desk",
        ),
        (
            "Rovers lift cup after 5-4 shootout",
            "Glenholm Rovers are national cup winners after a 5-4 penalty shootout against Fenwick City on Saturday. The final had ended 2-2 after extra time.",
            "Fan Zone",
        ),
    ),
    (
        (
            "Eastleigh bridge reopens after 18-month repair",
            "The Eastleigh river bridge reopened to traffic on Monday after an 18-month, $31 million repair of its corroded steel supports.",
            "City Daily",
        ),
        (
            "Traffic returns to Eastleigh bridge",
            "Cars crossed the Eastleigh bridge on Monday for the first time in 18 months, after engineers finished a $31 million project to replace rusted supports.",
            "Commuter News",
        ),
    ),
]

DIFFERENT: list[tuple[Side, Side]] = [
    (
        (
            "Riverton council approves 40-megawatt solar farm on rail yard",
            "The Riverton city council voted 7-2 on Tuesday to build a 40-megawatt solar farm on the abandoned Eastside rail yard.",
            "Coast Ledger",
        ),
        (
            "Riverton council rejects downtown parking garage",
            "The Riverton city council voted 5-4 on Tuesday against a 600-space parking garage downtown, saying the $22 million cost was too high.",
            "Harbour Post",
        ),
    ),
    (
        (
            "Port Ellery to rebuild breached storm wall",
            "Port Ellery's council voted on Monday to rebuild the harbour storm wall that failed twice last winter, at a cost of $14 million.",
            "Coast Ledger",
        ),
        (
            "Port Ellery fishing fleet lands record catch",
            "Port Ellery's fishing fleet landed a record 3,400 tonnes of mackerel in October, the harbour master said on Monday.",
            "Bay Times",
        ),
    ),
    (
        (
            "St Brigid's opens new emergency department",
            "St Brigid's Hospital opened its rebuilt emergency department on Wednesday, doubling its treatment bays to 48.",
            "City Daily",
        ),
        (
            "St Brigid's nurses vote to strike over night shifts",
            "Nurses at St Brigid's Hospital voted on Wednesday to strike next month over staffing on night shifts, their union said.",
            "Metro News",
        ),
    ),
    (
        (
            "Central bank raises rates to 4.5 percent",
            "The central bank raised its main interest rate by a quarter point to 4.5 percent on Wednesday, its third increase this year.",
            "Business Daily",
        ),
        (
            "Central bank holds rates at 4.25 percent",
            "The central bank kept its main interest rate at 4.25 percent on Wednesday, saying inflation was easing faster than expected.",
            "Money Wire",
        ),
    ),
    (
        (
            "Glenholm wins national cup in penalty shootout",
            "Glenholm Rovers won the national cup on Saturday, beating Fenwick City 5-4 on penalties after a 2-2 draw.",
            "Sports Desk",
        ),
        (
            "Glenholm Rovers sack manager after league defeat",
            "Glenholm Rovers dismissed manager Pete Walsh on Saturday after a 3-0 league defeat left the club fourth from bottom.",
            "Fan Zone",
        ),
    ),
    (
        (
            "Transport minister Alan Reyes resigns over rail tender",
            "Transport minister Alan Reyes resigned on Friday after an audit report criticised how his ministry awarded a rail contract.",
            "National Wire",
        ),
        (
            "Transport ministry orders 40 new trains",
            "The transport ministry ordered 40 new electric trains on Friday for the coastal line, to be delivered from 2026.",
            "Capital Times",
        ),
    ),
    (
        (
            "Fire destroys historic Kellaway mill",
            "A fire on Sunday night destroyed the 180-year-old Kellaway textile mill. No one was injured.",
            "County Courier",
        ),
        (
            "Kellaway mill to become 120 flats",
            "Developers unveiled plans on Sunday to turn the old Kellaway textile mill into 120 flats and a small museum.",
            "Regional Press",
        ),
    ),
    (
        (
            "Tram extension to airport approved",
            "Planners approved a four-mile extension of the tram line to the airport on Thursday.",
            "City Daily",
        ),
        (
            "Airport passenger numbers hit record 9 million",
            "The city airport handled a record 9 million passengers last year, its operator said on Thursday.",
            "Transport Weekly",
        ),
    ),
    (
        (
            "Arden valley farmers cut planting as reservoirs hit 38 percent",
            "Farmers in the Arden valley are planting less for a second year, with reservoirs at 38 percent of capacity.",
            "Farm Gazette",
        ),
        (
            "Arden valley wine harvest best in a decade",
            "Vineyards in the Arden valley are picking their best grape harvest in ten years after a warm, dry September.",
            "Valley Herald",
        ),
    ),
    (
        (
            "Dunmere school closed after roof collapse",
            "Dunmere Primary School will stay closed for two weeks after part of its gym roof collapsed on Tuesday.",
            "County Courier",
        ),
        (
            "Dunmere Primary rated outstanding by inspectors",
            "Inspectors rated Dunmere Primary School outstanding on Tuesday, praising its reading teaching and after-school clubs.",
            "Local Voice",
        ),
    ),
    (
        (
            "Eastleigh bridge reopens after 18-month repair",
            "The Eastleigh river bridge reopened to traffic on Monday after an 18-month repair of its steel supports.",
            "City Daily",
        ),
        (
            "Eastleigh river floods homes after heavy rain",
            "The Eastleigh river burst its banks on Monday after two days of heavy rain, flooding 40 homes near the old bridge.",
            "Commuter News",
        ),
    ),
    (
        (
            "Marlow library to open Sundays after budget deal",
            "The Marlow city library will open on Sundays from next month after the council approved a budget deal.",
            "Marlow Mercury",
        ),
        (
            "Marlow council raises parking fees in budget",
            "Parking fees in Marlow will rise by 20 percent under the budget the council approved on Thursday.",
            "City Daily",
        ),
    ),
]
