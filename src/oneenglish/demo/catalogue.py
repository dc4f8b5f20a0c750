# ruff: noqa: E501  (the lessons read best one exercise per line)
"""The demo catalogue: two courses at each CEFR level, A1 to C2, three lessons each, every
lesson with a rich-text body, steps, a resource and one exercise of every type (multiple
choice, fill in the blanks, matching, free text) with its answer key. Written by hand: a
language school's first courses, not lorem ipsum."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LessonSpec:
    title: str
    intro: str
    example: str
    choice: tuple[str, tuple[str, ...], int]  # prompt, options, index of the right one
    blanks: tuple[str, tuple[str, ...]]  # prompt with {{blank}} gaps, the answers in order
    pairs: tuple[tuple[str, str], ...]  # left item, its match
    # Free-text prompt (open writing, which the teacher grades), and words a good answer uses
    # (the demo learners' answers are written from them).
    writing: tuple[str, tuple[str, ...]]
    minutes: int = 20


@dataclass(frozen=True)
class CourseSpec:
    slug: str
    title: str
    level: str
    skill: str
    description: str
    price: str
    teacher: tuple[str, str]  # first and last name
    lessons: tuple[LessonSpec, ...]


def _id(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")[:40] or "item"


def lesson_body(spec: LessonSpec, course: CourseSpec) -> dict[str, Any]:
    """The lesson's content document (PUT /api/lessons/{id}/content's shape)."""
    prompt, options, right = spec.choice
    blank_prompt, answers = spec.blanks
    writing_prompt, _ = spec.writing  # open writing: graded by the teacher
    left = [{"id": f"l{n}", "text": a} for n, (a, _) in enumerate(spec.pairs, 1)]
    right_items = [{"id": f"r{n}", "text": b} for n, (_, b) in enumerate(spec.pairs, 1)]
    # The right-hand column is shown rotated, so the pairs are not read off line by line.
    shown_right = right_items[1:] + right_items[:1]
    return {
        "body": {
            "type": "doc",
            "content": [
                {"type": "heading", "level": 2, "text": spec.title},
                {"type": "paragraph", "text": spec.intro},
                {"type": "blockquote", "text": spec.example},
                {
                    "type": "callout",
                    "tone": "tip",
                    "text": f"{course.level} · {course.skill}: read the example aloud twice.",
                },
            ],
        },
        "steps": [
            {"id": "warm-up", "title": "Warm-up: read and listen"},
            {"id": "practice", "title": "Practice"},
            {"id": "review", "title": "Review and write"},
        ],
        "resources": [
            {
                "type": "audio",
                "title": f"{spec.title}: the example, read slowly",
                "url": f"https://media.oneenglish.dev/{course.slug}/{_id(spec.title)}.mp3",
                "mime_type": "audio/mpeg",
            }
        ],
        "exercises": [
            {
                "type": "multiple_choice",
                "id": "choose",
                "prompt": prompt,
                "options": [{"id": f"o{n}", "text": t} for n, t in enumerate(options, 1)],
                "correct_option_id": f"o{right + 1}",
                "points": 2,
            },
            {
                "type": "fill_in_blank",
                "id": "complete",
                "prompt": blank_prompt,
                "blanks": [{"accepted": [a]} for a in answers],
                "points": 2,
            },
            {
                "type": "matching",
                "id": "match",
                "prompt": "Match each item on the left with the one on the right.",
                "left": left,
                "right": shown_right,
                "pairs": {f"l{n}": f"r{n}" for n in range(1, len(spec.pairs) + 1)},
            },
            {
                "type": "free_text",
                "id": "write",
                "prompt": writing_prompt,
                "max_length": 800,
            },
        ],
    }


def answers_for(spec: LessonSpec, correct: bool, writing: str) -> list[dict[str, Any]]:
    """A learner's quiz answers: all right, or the choice and the first blank wrong."""
    _, options, right = spec.choice
    _, blanks = spec.blanks
    wrong_option = (right + 1) % len(options)
    return [
        {
            "type": "multiple_choice",
            "exercise_id": "choose",
            "option_id": f"o{(right if correct else wrong_option) + 1}",
        },
        {
            "type": "fill_in_blank",
            "exercise_id": "complete",
            "blanks": list(blanks) if correct else ["-", *blanks[1:]],
        },
        {
            "type": "matching",
            "exercise_id": "match",
            "pairs": {f"l{n}": f"r{n}" for n in range(1, len(spec.pairs) + 1)},
        },
        {"type": "free_text", "exercise_id": "write", "text": writing},
    ]


L = LessonSpec

COURSES: tuple[CourseSpec, ...] = (
    CourseSpec(
        "a1-present-simple",
        "English Foundations: the Present Simple",
        "A1",
        "Grammar",
        "Talk about yourself, your routine and the people around you with the present simple.",
        "0",
        ("Emma", "Collins"),
        (
            L(
                "I am, you are: the verb to be",
                "The verb *to be* tells us who someone is, where they are and how they feel.",
                "I am Ana. I am from Lima. My brothers are at school.",
                ("She ___ a teacher.", ("am", "is", "are"), 1),
                ("I {{blank}} hungry and they {{blank}} tired.", ("am", "are")),
                (("I", "am"), ("he", "is"), ("we", "are")),
                ("Introduce yourself in three sentences.", ("name", "from", "am")),
            ),
            L(
                "My daily routine",
                "We use the present simple for habits: things we do every day or every week.",
                "I get up at seven, I have breakfast and I walk to work.",
                ("He ___ to work by bus.", ("go", "goes", "going"), 1),
                ("She {{blank}} coffee every morning.", ("drinks",)),
                (("get", "up"), ("have", "breakfast"), ("go", "to bed")),
                ("Describe your morning routine.", ("get up", "breakfast", "work")),
            ),
            L(
                "Questions with do and does",
                "Questions in the present simple start with *do* or *does*; the verb stays basic.",
                "Do you like tea? Does your sister live in London?",
                ("___ she speak French?", ("Do", "Does", "Is"), 1),
                ("{{blank}} you play tennis? Yes, I {{blank}}.", ("Do", "do")),
                (("Do you", "like pizza?"), ("Does he", "work here?"), ("Where do", "they live?")),
                ("Write three questions for a new classmate.", ("do", "you", "?")),
            ),
        ),
    ),
    CourseSpec(
        "a1-home-and-family",
        "Everyday Vocabulary: Home and Family",
        "A1",
        "Vocabulary",
        "The words for your family, your home and the things in it, with pictures and audio.",
        "9.99",
        ("Daniel", "Okafor"),
        (
            L(
                "My family",
                "Family words help you talk about the people closest to you.",
                "This is my mother, Rosa. My father is Luis. I have one brother and two sisters.",
                ("Your mother's mother is your ___.", ("aunt", "grandmother", "cousin"), 1),
                ("My father's brother is my {{blank}}.", ("uncle",)),
                (("mother", "father"), ("sister", "brother"), ("daughter", "son")),
                ("Write about your family.", ("mother", "father", "brother")),
            ),
            L(
                "Rooms of the house",
                "Each room has its name and its use: we cook in the kitchen and sleep in the bedroom.",
                "Our flat has a small kitchen, a living room and two bedrooms.",
                ("You take a shower in the ___.", ("bathroom", "kitchen", "garden"), 0),
                ("We watch TV in the living {{blank}}.", ("room",)),
                (("kitchen", "cook"), ("bedroom", "sleep"), ("bathroom", "wash")),
                ("Describe your home.", ("kitchen", "bedroom", "room")),
            ),
            L(
                "Things in the kitchen",
                "Kitchen objects are words you use every day when you cook and eat.",
                "Put the milk in the fridge and the plates in the cupboard.",
                ("You boil water in a ___.", ("kettle", "fork", "chair"), 0),
                ("We eat soup with a {{blank}}.", ("spoon",)),
                (("knife", "cut"), ("cup", "drink"), ("oven", "bake")),
                ("What is in your kitchen?", ("fridge", "cup", "plate")),
            ),
        ),
    ),
    CourseSpec(
        "a2-past-simple-stories",
        "Past Simple Stories",
        "A2",
        "Grammar",
        "Tell stories about yesterday, last summer and your childhood with the past simple.",
        "0",
        ("Sofia", "Marin"),
        (
            L(
                "Regular verbs: -ed",
                "Most verbs make the past simple with *-ed*: work, worked; play, played.",
                "Yesterday I worked late, then I walked home and cooked dinner.",
                ("Last night we ___ a film.", ("watch", "watched", "watching"), 1),
                ("She {{blank}} (visit) her aunt last weekend.", ("visited",)),
                (("play", "played"), ("study", "studied"), ("stop", "stopped")),
                ("What did you do last weekend?", ("watched", "played", "visited")),
            ),
            L(
                "Irregular verbs",
                "Common verbs have their own past forms, and they are worth learning by heart.",
                "I went to Rome in May. I saw the Colosseum and ate a lot of pasta.",
                ("He ___ a new phone yesterday.", ("buyed", "bought", "buys"), 1),
                ("We {{blank}} (go) to the beach and {{blank}} (swim).", ("went", "swam")),
                (("go", "went"), ("see", "saw"), ("eat", "ate")),
                ("Write about your last holiday.", ("went", "saw", "ate")),
            ),
            L(
                "Did you…? Questions and negatives",
                "In the past simple, *did* carries the tense: the main verb goes back to its base.",
                "Did you call Tom? No, I didn't have time.",
                ("___ you finish your homework?", ("Do", "Did", "Was"), 1),
                ("I {{blank}} see her at the party.", ("didn't",)),
                (("Did you", "sleep well?"), ("I didn't", "know"), ("Where did", "you go?")),
                ("Ask a friend about their childhood.", ("did", "you", "when")),
            ),
        ),
    ),
    CourseSpec(
        "a2-travel-listening",
        "Listening: Travel and Directions",
        "A2",
        "Listening",
        "Understand announcements, ask for directions and follow them in an English city.",
        "14.99",
        ("James", "Whitaker"),
        (
            L(
                "At the station",
                "Station announcements repeat the key facts: the platform, the time, the stops.",
                "The 10:15 train to Brighton will depart from platform four.",
                ("'Platform' means where you ___.", ("buy tickets", "get on the train", "park"), 1),
                ("The train to Oxford leaves from platform {{blank}}.", ("two",)),
                (("single", "one way"), ("return", "there and back"), ("delay", "late")),
                (
                    "Write the announcement you would hear for your train home.",
                    ("train", "platform"),
                ),
            ),
            L(
                "Asking the way",
                "Polite questions and a few phrases get you anywhere in a new city.",
                "Excuse me, how do I get to the museum? Go straight on and turn left.",
                ("'Turn right' is the opposite of turn ___.", ("straight", "left", "back"), 1),
                ("Go {{blank}} on and it's on your {{blank}}.", ("straight", "left")),
                (
                    ("opposite", "across from"),
                    ("next to", "beside"),
                    ("corner", "where streets meet"),
                ),
                ("Give directions from your home to a café.", ("turn", "left", "straight")),
            ),
            L(
                "At the hotel",
                "Checking in, asking about breakfast and reporting a problem with the room.",
                "I have a reservation under the name Silva. Is breakfast included?",
                ("You ___ a room before you arrive.", ("book", "borrow", "rent out"), 0),
                ("Could I have a {{blank}} call at seven, please?", ("wake-up",)),
                (("check in", "arrive"), ("check out", "leave"), ("single", "one bed")),
                ("Write an email to a hotel asking about parking.", ("room", "parking", "please")),
            ),
        ),
    ),
    CourseSpec(
        "b1-present-perfect",
        "The Present Perfect in Real Life",
        "B1",
        "Grammar",
        "Experiences, changes and unfinished time: when to say 'I have done' and not 'I did'.",
        "19.99",
        ("Priya", "Raman"),
        (
            L(
                "Experiences: have you ever…?",
                "The present perfect talks about experiences at an unspecified time in your life.",
                "Have you ever been to Japan? I've never tried sushi.",
                ("I've ___ seen snow.", ("ever", "never", "yet"), 1),
                ("Have you {{blank}} climbed a mountain?", ("ever",)),
                (("been", "go"), ("seen", "see"), ("written", "write")),
                ("Write about three things you have never done.", ("never", "have", "been")),
            ),
            L(
                "Already, just and yet",
                "These adverbs place a finished action close to now.",
                "I've just sent the email. Have you finished yet? She's already left.",
                ("Has the film started ___?", ("already", "yet", "just"), 1),
                ("I have {{blank}} had lunch, thanks.", ("already",)),
                (
                    ("just", "a moment ago"),
                    ("already", "sooner than expected"),
                    ("yet", "until now"),
                ),
                (
                    "What have you already done today, and what haven't you done yet?",
                    ("already", "yet"),
                ),
            ),
            L(
                "For and since",
                "*For* gives a length of time; *since* gives the starting point.",
                "I've lived here for six years, since 2020.",
                ("She has worked here ___ March.", ("for", "since", "ago"), 1),
                ("We've known each other {{blank}} ten years.", ("for",)),
                (("for", "two weeks"), ("since", "Monday"), ("for", "a long time")),
                ("How long have you studied English?", ("since", "for", "have")),
            ),
        ),
    ),
    CourseSpec(
        "b1-work-and-study",
        "Vocabulary for Work and Study",
        "B1",
        "Vocabulary",
        "Collocations and phrases for the office, the classroom and your CV.",
        "0",
        ("Lucas", "Bernard"),
        (
            L(
                "Collocations with make and do",
                "English says *make a decision* but *do your homework*: learn them as pairs.",
                "We need to make a decision today, so let's do some research first.",
                ("Can you ___ me a favour?", ("make", "do", "take"), 1),
                ("It's time to {{blank}} a plan.", ("make",)),
                (("make", "a mistake"), ("do", "the dishes"), ("make", "progress")),
                ("Write about a decision you made at work or school.", ("made", "decision")),
            ),
            L(
                "Writing your CV",
                "A CV uses strong verbs and short phrases, not full sentences.",
                "Managed a team of five; increased sales by 20 %.",
                ("On a CV, 'responsible for' is weaker than ___.", ("did", "led", "was"), 1),
                ("{{blank}} a project budget of €50,000.", ("Managed",)),
                (
                    ("skills", "what you can do"),
                    ("experience", "jobs you have done"),
                    ("references", "people who recommend you"),
                ),
                ("Describe your last job or course for your CV.", ("managed", "team", "skills")),
            ),
            L(
                "In the classroom",
                "The language of lectures, seminars and deadlines.",
                "The essay is due on Friday; hand it in before the seminar.",
                ("To 'hand in' an essay is to ___ it.", ("write", "submit", "read"), 1),
                ("The deadline for the project is {{blank}} Monday.", ("on",)),
                (
                    ("lecture", "a talk to many students"),
                    ("seminar", "a small discussion class"),
                    ("deadline", "the last day"),
                ),
                ("Describe a typical day at your school or university.", ("lecture", "study")),
            ),
        ),
    ),
    CourseSpec(
        "b2-conditionals",
        "Conditionals and Hypotheticals",
        "B2",
        "Grammar",
        "Real and imagined situations, regrets and advice: zero to third and mixed conditionals.",
        "24.99",
        ("Hannah", "Schmidt"),
        (
            L(
                "First and second conditional",
                "Likely futures take the first conditional; imagined presents take the second.",
                "If it rains, we'll stay in. If I had more time, I would learn the piano.",
                ("If I ___ rich, I'd travel the world.", ("am", "were", "will be"), 1),
                ("If you heat ice, it {{blank}}.", ("melts",)),
                (
                    ("If it rains,", "we'll stay home."),
                    ("If I were you,", "I'd apologise."),
                    ("If you freeze water,", "it turns to ice."),
                ),
                ("What would you do if you didn't have to work?", ("would", "if")),
            ),
            L(
                "Third conditional and regrets",
                "The third conditional imagines a different past, often with regret.",
                "If I had left earlier, I wouldn't have missed the train.",
                ("If she had studied, she ___ passed.", ("would have", "will have", "had"), 0),
                ("If we {{blank}} known, we would have helped.", ("had",)),
                (
                    ("had known", "would have told"),
                    ("had left", "wouldn't have missed"),
                    ("hadn't rained", "would have gone"),
                ),
                ("Write about something you would have done differently.", ("had", "would have")),
            ),
            L(
                "Wish and if only",
                "*Wish* and *if only* express regrets about the present and the past.",
                "I wish I spoke Italian. If only I hadn't said that!",
                ("I wish I ___ more free time.", ("have", "had", "will have"), 1),
                ("If only I {{blank}} listened to you.", ("had",)),
                (
                    ("I wish I were", "taller."),
                    ("If only I had", "known."),
                    ("I wish it would", "stop raining."),
                ),
                ("Write three wishes about your life now.", ("wish", "were", "had")),
            ),
        ),
    ),
    CourseSpec(
        "b2-business-meetings-emails",
        "Business English: Meetings and Emails",
        "B2",
        "Business English",
        "Run a meeting, disagree politely and write emails that get answers.",
        "29.99",
        ("Oliver", "Grant"),
        (
            L(
                "Opening and running a meeting",
                "A chair sets the agenda, keeps time and makes sure every voice is heard.",
                "Thanks for coming. Let's start with the first item on the agenda.",
                ("The list of topics for a meeting is the ___.", ("minutes", "agenda", "memo"), 1),
                ("Let's move {{blank}} to the next point.", ("on",)),
                (
                    ("agenda", "topics to discuss"),
                    ("minutes", "written record"),
                    ("action point", "a task agreed"),
                ),
                ("Write the opening of a team meeting.", ("agenda", "item", "thanks")),
            ),
            L(
                "Disagreeing politely",
                "Soften disagreement so the discussion stays open.",
                "I see your point, but I'm not sure that would work for our clients.",
                (
                    "The most polite option is: ___",
                    ("You're wrong.", "I'm afraid I disagree.", "No."),
                    1,
                ),
                ("I see your {{blank}}, but have we considered the cost?", ("point",)),
                (
                    ("I'm afraid", "I can't agree"),
                    ("That's a good point,", "however…"),
                    ("Could we", "look at it another way?"),
                ),
                ("Politely disagree with a colleague's proposal.", ("however", "point", "afraid")),
            ),
            L(
                "Emails that get answers",
                "A clear subject, one request per email and a deadline.",
                "Could you send me the figures by Thursday? Many thanks, Ana",
                ("'Please find attached' introduces ___.", ("a file", "a meeting", "a call"), 0),
                ("I look forward to {{blank}} from you.", ("hearing",)),
                (
                    ("Dear Ms Lee,", "formal opening"),
                    ("Best regards,", "formal closing"),
                    ("FYI", "for your information"),
                ),
                ("Write an email asking a supplier for a quote.", ("could", "please", "regards")),
            ),
        ),
    ),
    CourseSpec(
        "c1-advanced-listening",
        "Advanced Listening: Podcasts and Talks",
        "C1",
        "Listening",
        "Follow fast, natural speech: accents, discourse markers and implied meaning.",
        "34.99",
        ("Grace", "Adeyemi"),
        (
            L(
                "Discourse markers",
                "Speakers signal what comes next: a contrast, an example, a conclusion.",
                "Having said that, the data tell a rather different story.",
                (
                    "'Having said that' introduces ___.",
                    ("an example", "a contrast", "a summary"),
                    1,
                ),
                ("To {{blank}} up, the results were mixed.", ("sum",)),
                (
                    ("mind you", "a qualification"),
                    ("as it happens", "by coincidence"),
                    ("all in all", "a conclusion"),
                ),
                ("Summarise a talk you heard recently.", ("however", "overall")),
            ),
            L(
                "Accents of English",
                "Scottish, Australian, Indian, Nigerian: understanding starts with the vowels.",
                "The 'r' after vowels is heard in Scotland and Ireland but not in most of England.",
                ("In much of England, the r in 'car' is ___.", ("rolled", "silent", "doubled"), 1),
                ("Australian English often says 'no {{blank}}' for you're welcome.", ("worries",)),
                (
                    ("lorry", "UK truck"),
                    ("arvo", "Australian afternoon"),
                    ("wee", "Scottish small"),
                ),
                ("Which accent of English do you find hardest, and why?", ("accent", "because")),
            ),
            L(
                "Reading between the lines",
                "Hedging and irony carry meaning the words do not state.",
                "'That's one way of doing it' usually means the speaker would do it differently.",
                (
                    "'With all due respect' usually comes before ___.",
                    ("praise", "disagreement", "thanks"),
                    1,
                ),
                ("'I'm not {{blank}} convinced' means you are doubtful.", ("entirely",)),
                (
                    ("hedge", "soften a claim"),
                    ("irony", "saying the opposite"),
                    ("understatement", "saying less"),
                ),
                ("Explain an English phrase that means more than it says.", ("means", "actually")),
            ),
        ),
    ),
    CourseSpec(
        "c1-academic-writing",
        "Academic Writing and Register",
        "C1",
        "Writing",
        "Argue, cite and hedge in the formal register universities and journals expect.",
        "0",
        ("Thomas", "Byrne"),
        (
            L(
                "Formal and informal register",
                "Academic English prefers single verbs to phrasal ones and avoids contractions.",
                "The researchers investigated (not 'looked into') the causes.",
                ("The formal equivalent of 'find out' is ___.", ("discover", "get", "see"), 0),
                ("The study {{blank}} (looks at) three cases.", ("examines",)),
                (("get better", "improve"), ("go up", "increase"), ("put off", "postpone")),
                ("Rewrite an informal paragraph in a formal register.", ("however", "therefore")),
            ),
            L(
                "Hedging claims",
                "Careful writers qualify claims they cannot prove absolutely.",
                "The results suggest that the policy may have contributed to the decline.",
                ("Which is hedged?", ("This proves X.", "This suggests X.", "X is true."), 1),
                ("It {{blank}} be argued that the sample was too small.", ("could",)),
                (("suggest", "not prove"), ("appear to", "seem"), ("tend to", "usually")),
                ("Write a hedged conclusion for a short study.", ("suggest", "may")),
            ),
            L(
                "Linking an argument",
                "Linking words show how each sentence relates to the one before.",
                "Moreover, the costs were high; consequently, the project was delayed.",
                ("'Consequently' introduces ___.", ("a result", "a contrast", "an example"), 0),
                ("The method was cheap; {{blank}}, it was slow.", ("however",)),
                (("moreover", "adding"), ("nevertheless", "contrasting"), ("thus", "concluding")),
                ("Write a paragraph arguing for or against homework.", ("moreover", "however")),
            ),
        ),
    ),
    CourseSpec(
        "c2-idioms-and-nuance",
        "Idioms and Nuance",
        "C2",
        "Vocabulary",
        "Idioms, phrasal verbs and connotation: the last step towards sounding natural.",
        "39.99",
        ("Charlotte", "Evans"),
        (
            L(
                "Idioms of time and effort",
                "Idioms pack a whole attitude into a few words.",
                "We'll cross that bridge when we come to it; for now, let's call it a day.",
                ("'To call it a day' means to ___.", ("start", "stop working", "phone someone"), 1),
                ("Don't beat about the {{blank}}: tell me what happened.", ("bush",)),
                (
                    ("a piece of cake", "very easy"),
                    ("once in a blue moon", "very rarely"),
                    ("burn the midnight oil", "work late"),
                ),
                ("Tell a short story using two idioms.", ("idiom", "day")),
            ),
            L(
                "Connotation",
                "Slim and skinny describe the same body with very different feelings.",
                "He's thrifty (approving) — or stingy (disapproving) — with money.",
                ("Which word is approving?", ("stubborn", "determined", "pig-headed"), 1),
                ("She isn't nosy, she's {{blank}}: she just likes to know things.", ("curious",)),
                (("thrifty", "stingy"), ("confident", "arrogant"), ("slim", "skinny")),
                ("Describe a friend twice: once kindly, once unkindly.", ("but", "although")),
            ),
            L(
                "Phrasal verbs with several meanings",
                "*Pick up* a language, a friend from the station or a signal: context decides.",
                "I picked up some Portuguese in Lisbon; can you pick me up at eight?",
                (
                    "'The economy is picking up' means it is ___.",
                    ("falling", "improving", "stopping"),
                    1,
                ),
                ("The plane took {{blank}} on time.", ("off",)),
                (
                    ("take off", "leave the ground"),
                    ("put up with", "tolerate"),
                    ("look up to", "admire"),
                ),
                ("Write sentences using 'pick up' in two meanings.", ("picked", "up")),
            ),
        ),
    ),
    CourseSpec(
        "c2-business-negotiation",
        "Business English: Negotiation and Persuasion",
        "C2",
        "Business English",
        "Negotiate contracts, persuade stakeholders and close deals in English.",
        "49.99",
        ("Alexander", "Novak"),
        (
            L(
                "Preparing a negotiation",
                "Know your walk-away point and what the other side really needs.",
                "Our BATNA is the offer from the second supplier, so we can afford to wait.",
                (
                    "Your 'walk-away point' is ___.",
                    ("your first offer", "the least you'll accept", "the deadline"),
                    1,
                ),
                ("We need to find some common {{blank}}.", ("ground",)),
                (
                    ("concession", "something you give up"),
                    ("leverage", "power to influence"),
                    ("deadlock", "no progress"),
                ),
                ("Plan a negotiation for a pay rise.", ("offer", "accept")),
            ),
            L(
                "Making and answering offers",
                "Conditional offers trade one concession for another.",
                "If you can commit to two years, we could reduce the price by 5 %.",
                (
                    "'We could meet you halfway' offers a ___.",
                    ("refusal", "compromise", "deadline"),
                    1,
                ),
                ("That's not {{blank}} we had in mind.", ("what",)),
                (
                    ("if you", "we could"),
                    ("provided that", "only if"),
                    ("in return", "in exchange"),
                ),
                ("Write a counter-offer to a client's demand.", ("if", "could", "return")),
            ),
            L(
                "Closing the deal",
                "Summarise what was agreed and confirm the next steps in writing.",
                "So, to confirm: delivery in March, payment in 30 days. I'll send the contract today.",
                ("'To seal the deal' means to ___.", ("break it", "finalise it", "delay it"), 1),
                ("Let's put it in {{blank}}.", ("writing",)),
                (("sign", "the contract"), ("next", "steps"), ("shake", "hands")),
                ("Write the email that confirms a deal.", ("confirm", "agreed", "contract")),
            ),
        ),
    ),
)
