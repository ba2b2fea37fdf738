"""Vocabulary for the synthetic demo dataset: radiology subspecialties, themes, people, journals.

Everything here is invented for demonstration; no real person, patient or post is quoted.
"""

SUBSPECIALTIES = {
    "neuro": {
        "terms": ["acute stroke CT perfusion", "MS lesions on MRI", "glioblastoma follow-up", "CTA for aneurysm",
                  "subdural hematoma", "spine MRI", "DWI restriction", "pediatric brain tumour", "ASPECTS scoring"],
        "tags": ["NeuroRad", "ASNR", "StrokeImaging"],
    },
    "msk": {
        "terms": ["ACL tear on MRI", "rotator cuff", "stress fracture", "bone tumour", "MSK ultrasound",
                  "hip labral tear", "osteoid osteoma", "sports imaging", "knee cartilage mapping"],
        "tags": ["MSKrad", "SportsMed"],
    },
    "chest": {
        "terms": ["lung nodule follow-up", "lung cancer screening LDCT", "ILD patterns on HRCT", "pulmonary embolism CTA",
                  "chest X-ray AI triage", "pneumothorax", "Fleischner guidelines", "COVID pneumonia"],
        "tags": ["ChestRad", "LungCancerScreening"],
    },
    "cardiac": {
        "terms": ["coronary CTA", "cardiac MRI for myocarditis", "calcium scoring", "FFR-CT", "LGE on cardiac MR",
                  "TAVR planning CT", "cardiomyopathy imaging"],
        "tags": ["CardiacImaging", "CardioRad", "SCCT"],
    },
    "abdominal": {
        "terms": ["LI-RADS", "pancreatic cyst", "appendicitis CT", "liver MRI with hepatobiliary contrast", "prostate MRI PI-RADS",
                  "renal mass", "bowel obstruction", "rectal cancer MRI staging", "CT colonography"],
        "tags": ["AbdRad", "GURad", "ProstateMRI"],
    },
    "breast": {
        "terms": ["screening mammography", "DBT tomosynthesis", "breast MRI for dense breasts", "BI-RADS 4 biopsy",
                  "contrast-enhanced mammography", "breast density notification", "callback rates"],
        "tags": ["BreastRad", "BreastImaging", "DenseBreasts"],
    },
    "pediatric": {
        "terms": ["pediatric appendicitis ultrasound", "intussusception", "NAT skeletal survey", "pediatric dose reduction",
                  "neonatal head ultrasound", "pediatric MRI without sedation"],
        "tags": ["PedsRad", "ImageGently"],
    },
    "ir": {
        "terms": ["prostate artery embolization", "TACE", "Y-90 radioembolization", "IVC filter retrieval",
                  "genicular artery embolization", "thrombectomy", "TIPS", "uterine fibroid embolization"],
        "tags": ["IRad", "SIRRFS", "InterventionalRadiology"],
    },
    "nuclear": {
        "terms": ["PSMA PET", "Lu-177 theranostics", "FDG PET/CT", "amyloid PET", "bone scan", "DOTATATE PET"],
        "tags": ["NucMed", "Theranostics", "SNMMI"],
    },
    "emergency": {
        "terms": ["trauma pan-scan", "overnight ED reads", "FAST exam", "cervical spine CT", "ED turnaround times",
                  "acute aortic syndrome"],
        "tags": ["ERad", "EmergencyRadiology", "TraumaRad"],
    },
}

THEMES = {
    "ai": {
        "phrases": ["the AI model flagged", "deep learning triage", "foundation models for radiology reports",
                    "an FDA-cleared algorithm", "LLM-drafted impressions", "AI second reader"],
        "tags": ["RadAI", "AIinRadiology", "MachineLearning"],
    },
    "education": {
        "phrases": ["case of the day", "teaching file", "quiz: what is the diagnosis?", "great tutorial on",
                    "#FOAMrad resource on", "board review"],
        "tags": ["FOAMrad", "RadEd", "MedEd"],
    },
    "careers_training": {
        "phrases": ["residency interview season", "fellowship match", "applying to DR residency", "first call shift",
                    "job market for new attendings", "mentorship in radiology"],
        "tags": ["RadRes", "Match2026", "FutureRadiologist"],
    },
    "workforce_wellbeing": {
        "phrases": ["radiologist burnout", "the worklist never ends", "staffing shortages", "another unfilled position",
                    "RVU pressure", "work-life balance"],
        "tags": ["RadBurnout", "WomenInRadiology", "RadWellness"],
    },
    "research_publication": {
        "phrases": ["our new paper", "just published", "multicentre study shows", "meta-analysis of",
                    "preprint out now", "excited to share our study"],
        "tags": ["RadResearch", "OpenScience"],
    },
    "conferences_events": {
        "phrases": ["at the scientific session", "great plenary at", "poster hall", "come see our talk at",
                    "live from the meeting", "annual meeting highlights"],
        "tags": [],
    },
    "patient_safety_quality": {
        "phrases": ["contrast reaction protocol", "incidental findings follow-up", "peer learning conference",
                    "radiation dose tracking", "MRI safety zone IV", "communication of critical results"],
        "tags": ["PatientSafety", "QualityImprovement"],
    },
    "policy_economics": {
        "phrases": ["Medicare reimbursement cuts", "prior authorization", "the physician fee schedule",
                    "private equity in radiology", "teleradiology contracts", "scope of practice"],
        "tags": ["HealthPolicy", "RadPolicy"],
    },
    "technology_equipment": {
        "phrases": ["photon-counting CT", "low-field MRI", "the new 3T scanner", "helium-free MRI", "PACS downtime",
                    "spectral CT"],
        "tags": ["PhotonCountingCT", "MRI"],
    },
    "patient_public": {
        "phrases": ["what patients should know about", "patient-friendly report", "imaging costs for patients",
                    "open access results", "explaining scans to patients"],
        "tags": ["PatientCentered", "PatientsFirst"],
    },
}

POSITIVE = ["Fantastic", "Love this", "Great work", "Really impressive", "So proud of the team", "Excellent", "Thrilled"]
NEGATIVE = ["Frustrating", "Disappointed", "Worrying trend", "Terrible", "Exhausted", "Not great", "Sad to see"]
NEUTRAL = ["Reminder:", "Update:", "Thread:", "Case:", "Question:", "Note:", "FYI"]
REPORT_PHRASES = ["negative for PE", "no acute intracranial abnormality", "no evidence of metastatic disease",
                  "unremarkable study", "no fracture identified"]

AUTHOR_KINDS = {
    "radiologist": (0.32, ["{sub} radiologist at {org}. Views my own.", "Attending radiologist | {sub} imaging | {org}",
                           "Diagnostic radiologist, {org}. Tweets are not medical advice.",
                           "{sub} neuroradiologist and educator"]),
    "trainee": (0.18, ["PGY-{n} radiology resident at {org}", "Diagnostic radiology resident | future {sub} fellow",
                       "MS4 applying to radiology", "{sub} fellow at {org}"]),
    "radiographer": (0.10, ["Radiographer and CT lead at {org}", "MRI technologist, {org}",
                            "Sonographer | radiographer educator"]),
    "other_clinician": (0.10, ["Emergency physician at {org}", "Oncologist. Lung cancer research.",
                               "Cardiologist interested in imaging", "Orthopaedic surgeon"]),
    "organisation": (0.08, ["Official account of the {org} Department of Radiology",
                            "Journal of {sub} Imaging. Latest articles and news.",
                            "Society of {sub} Radiology. Education, research, advocacy."]),
    "industry": (0.07, ["Building AI for {sub} imaging. Company account.", "Medical imaging solutions | {org} Healthcare",
                        "Enterprise imaging and PACS vendor"]),
    "patient_public": (0.15, ["Patient advocate. Cancer survivor.", "Mum, runner, breast cancer survivor",
                              "Curious about medicine", "Science writer"]),
}

ORGS = ["Metro University Hospital", "Lakeside Medical Center", "St. Aurelia Hospital", "Northbridge Clinic",
        "Riverside Health", "University of Eastfield", "Harbor Imaging Group", "Central Teaching Hospital"]
FIRST = ["Alex", "Sam", "Priya", "Chen", "Maria", "Tomás", "Aisha", "Jonas", "Keiko", "Fatima", "Liam", "Noor",
         "Elena", "Ravi", "Grace", "Omar", "Sofia", "Daniel", "Mei", "Kwame"]
LAST = ["Rivera", "Patel", "Nguyen", "Schmidt", "Okafor", "Haddad", "Kowalski", "Silva", "Tanaka", "Moreau",
        "Andersen", "Cohen", "Mensah", "Rossi", "Ivanova", "Lindqvist"]

JOURNALS = [
    ("Radiology", "10.1148/radiol.{yr}{n:05d}", "pubs.rsna.org"),
    ("RadioGraphics", "10.1148/rg.{yr}{n:05d}", "pubs.rsna.org"),
    ("Radiology: Artificial Intelligence", "10.1148/ryai.{yr}{n:05d}", "pubs.rsna.org"),
    ("American Journal of Roentgenology", "10.2214/ajr.{yy}.{n:05d}", "ajronline.org"),
    ("European Radiology", "10.1007/s00330-0{yy}-{n:05d}-{c}", "link.springer.com"),
    ("Insights into Imaging", "10.1186/s13244-0{yy}-{n:05d}-{c}", "link.springer.com"),
    ("Journal of the American College of Radiology", "10.1016/j.jacr.{yr}.{n:02d}.{m:03d}", "jacr.org"),
]
TITLE_PATTERNS = [
    "{Term}: a multicentre retrospective study",
    "Diagnostic performance of {term} compared with expert readers",
    "Deep learning for {term}: external validation",
    "Trends in {term} utilisation, 2015–{year}",
    "{Term} and patient outcomes: a systematic review and meta-analysis",
    "Reducing variability in {term} reporting",
]

NON_ENGLISH = {
    "es": ["Excelente caso de {term} hoy en la guardia", "Nuevo artículo sobre {term}, muy recomendable"],
    "de": ["Spannender Fall: {term} in der Notaufnahme", "Neue Studie zu {term} veröffentlicht"],
    "fr": ["Cas intéressant de {term} ce matin", "Nouvelle étude sur {term}, à lire"],
    "pt": ["Caso interessante de {term} hoje", "Novo artigo sobre {term}"],
}

FLAGGED = {
    "privacy_risk": ["My patient, 47yo F seen 03/14 at {org}, MRN 48213377 — look at this {term}",
                     "Interesting case from today: 82 year old man from Eastfield, scanned 2026-05-02, {term}"],
    "medical_advice_request": ["My MRI report says {term}. Should I be worried? Can a radiologist read my scan?",
                               "Got my CT results: '{report}'. What does this mean for me?"],
    "spam": ["Buy followers now!!! #Radiology #RadRes #FOAMrad #IRad #NeuroRad #MedTwitter #AI #Crypto #Deals #Win",
             "Limited offer: cheap CME credits, click here #Radiology #MedEd #FOAMrad #RadRes #Deals #Promo #Free"],
}
