"""The pools the company generator draws from: names, departments, titles, trainings, badges.

Pure data, in French as a French tenant would hold it. Names keep their accents,
apostrophes (straight and typographic), particles and hyphens on purpose: they are what
email folding and the Cards 190-character limit have to cope with.
"""

from __future__ import annotations

GIVEN_NAMES = (
    "Jean", "Marie", "Pierre", "Sophie", "Nicolas", "Julien", "Camille", "Thomas", "Sarah",
    "Laura", "Julie", "Antoine", "Lucas", "Hugo", "Emma", "Louise", "Alice", "Manon", "Paul",
    "Louis", "Nathalie", "Isabelle", "Sandrine", "Christophe", "Philippe", "Laurent", "David",
    "Olivier", "Mathieu", "Romain", "Claire", "Caroline", "Karim", "Mohamed", "Yasmine",
    "Fatima", "Mehdi", "Nadia", "Samir", "Amadou", "Moussa", "Fatou", "Kevin", "Pauline",
    "Vincent", "Audrey", "Guillaume", "Marion", "Maxime", "Charlotte", "Arthur", "Jade",
    "Élodie", "Zoé", "Hélène", "Jérôme", "François", "Gaëlle", "Noël", "Anaïs", "Chloé",
    "Léa", "Inès", "Maëlys", "Clémence", "Séverine", "Cécile", "Frédéric", "Stéphane",
    "Sébastien", "Grégoire", "Aurélien", "Benoît", "Jérémy", "Rémi", "Loïc", "Joël",
    "Raphaël", "Mathéo", "Théo", "Léon", "Éric", "Émilie", "Béatrice", "Valérie", "Mélanie",
    "Océane", "Noémie", "Thaïs", "Maïwenn", "Aïssatou", "Aurélie", "Anne-Sophie",
    "Jean-François", "Marie-Hélène", "Pierre-Étienne", "Lætitia", "Zoë",
)

FAMILY_NAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent",
    "Fournier", "Morel", "Girard", "Mercier", "Dupont", "Lambert", "Bonnet", "Martinez",
    "Legrand", "Garnier", "Faure", "Rousseau", "Blanc", "Muller", "Henry", "Roussel",
    "Perrin", "Morin", "Mathieu", "Gauthier", "Dumont", "Lopez", "Fontaine", "Chevalier",
    "Robin", "Masson", "Nguyen", "Boyer", "Denis", "Lemaire", "Duval", "Joly", "Roche",
    "Meyer", "Meunier", "Marchand", "Dufour", "Blanchard", "Barbier", "Brun", "Dumas",
    "Brunet", "Schmitt", "Colin", "Fernandez", "Renard", "Arnaud", "Caron", "Aubert",
    "Giraud", "Leclerc", "Vidal", "Bourgeois", "Renaud", "Picard", "Fabre", "Dupuis",
    "Hubert", "Diallo", "Traoré", "Koné", "Haddad", "Benali", "El Amrani", "Ben Salah",
    "Tran", "Etcheverry", "Cazenave", "Da Silva", "Lefèvre", "Lefèbvre", "André", "Guérin",
    "Gérard", "Sánchez", "Pérez", "Rivière", "Ménard", "Prévost", "Rémy", "Carré", "Côté",
    "Noël", "Benoît", "François", "Le Goff", "Le Gall", "Le Roux", "Le Floch", "Le Bihan",
    "D'Almeida", "N'Diaye", "L'Hôte", "D'Arcy", "N'Goran", "L'Hermitte", "D\u2019Amico",
    "de La Fontaine", "de Villiers", "du Pont", "Saint-Clair", "Dupont-Moreau",
    "Lefèvre-Pontalis", "Bénard-Lœuillet",
)

#: Forced on one employee so a small company still has an accent and an apostrophe.
ACCENTED_GIVEN_NAMES = ("Élodie", "Hélène", "Jérôme", "François", "Gaëlle", "Anaïs", "Noël")
APOSTROPHE_FAMILY_NAMES = ("D'Almeida", "N'Diaye", "L'Hôte", "D\u2019Amico", "N'Goran")

#: Joined until the family name is longer than Cards accepts (190) yet within Lucca's 255.
LONG_NAME_GIVEN = "Maria-Conceição"
LONG_NAME_PARTS = (
    "da Conceição", "Ferreira", "dos Santos", "de Oliveira", "e Sousa", "Carvalho",
    "Albuquerque", "de Magalhães", "Pereira", "da Costa", "Rodrigues", "de Menezes",
    "Vasconcelos", "Guimarães", "de Bragança", "Figueiredo", "Cavalcanti", "Nogueira",
    "de Albuquerque", "Monteiro", "Teixeira", "Queiroz", "Barbosa", "de Castro",
)

#: Roots of the department tree: (department name, city of its business establishment).
SITES = (
    ("Siège Paris", "Paris"), ("Agence Lyon", "Lyon"), ("Agence Bordeaux", "Bordeaux"),
    ("Agence Lille", "Lille"), ("Agence Nantes", "Nantes"), ("Agence Marseille", "Marseille"),
    ("Agence Toulouse", "Toulouse"), ("Agence Rennes", "Rennes"),
    ("Agence Strasbourg", "Strasbourg"), ("Agence Montpellier", "Montpellier"),
    ("Agence Nice", "Nice"), ("Agence Grenoble", "Grenoble"),
)

#: The function created under two different sites (same name, different branches).
SHARED_DEPARTMENT = "Marketing"

#: Functions (children of a site) → their teams (grandchildren).
FUNCTIONS: dict[str, tuple[str, ...]] = {
    "Direction générale": ("Stratégie", "Communication interne"),
    "Ressources humaines": ("Paie", "Recrutement", "Formation", "Relations sociales"),
    "Finance": ("Comptabilité", "Contrôle de gestion", "Trésorerie"),
    "Marketing": ("Marketing digital", "Événementiel", "Communication"),
    "Commercial": ("Grands comptes", "PME", "Administration des ventes"),
    "Informatique": ("Infrastructure", "Développement", "Support", "Sécurité"),
    "Service client": ("Support N1", "Support N2", "Qualité de service"),
    "Logistique": ("Entrepôt", "Transport", "Approvisionnement"),
    "Juridique": ("Contrats", "Conformité"),
    "Achats": ("Achats indirects", "Achats de production"),
    "Production": ("Atelier", "Maintenance", "Méthodes"),
    "Qualité": ("Contrôle qualité", "Certification"),
}

#: Departments created without anyone in them (a new pole, a crisis cell…).
EMPTY_DEPARTMENTS = (
    "Pôle RSE", "Innovation", "Nouveaux marchés", "Cellule de crise", "Data & IA",
    "Partenariats", "Projets transverses", "Veille stratégique",
)
#: The archived department (archiving needs it empty).
ARCHIVED_DEPARTMENTS = ("Ancien service export", "Projet Horizon (clos)", "Agence Limoges (fermée)")

#: Job titles per function; a site's own staff use ``SITE_TITLES``.
JOB_TITLES: dict[str, tuple[str, ...]] = {
    "Direction générale": ("Chargé de mission", "Assistante de direction", "Directeur adjoint"),
    "Ressources humaines": (
        "Chargée RH", "Gestionnaire de paie", "Responsable formation", "Chargé de recrutement",
        "HR Business Partner",
    ),
    "Finance": ("Comptable", "Contrôleur de gestion", "Assistante comptable", "Trésorier"),
    "Marketing": ("Chef de produit", "Chargée de marketing", "Community manager",
                  "Chargé de communication"),
    "Commercial": ("Commercial terrain", "Ingénieur d'affaires", "Key account manager",
                   "Assistante ADV"),
    "Informatique": ("Développeur", "Administrateur systèmes", "Technicien support",
                     "Architecte logiciel", "Ingénieur DevOps"),
    "Service client": ("Conseiller clientèle", "Chargée de relation client", "Superviseur"),
    "Logistique": ("Préparateur de commandes", "Cariste", "Responsable d'entrepôt",
                   "Approvisionneur"),
    "Juridique": ("Juriste", "Juriste conformité", "Paralegal"),
    "Achats": ("Acheteur", "Acheteuse projet", "Assistant achats"),
    "Production": ("Opérateur de production", "Technicien de maintenance", "Chef d'équipe"),
    "Qualité": ("Technicien qualité", "Responsable QHSE", "Auditeur interne"),
}
SITE_TITLES = ("Office manager", "Assistant de direction", "Chargée d'accueil",
               "Directeur d'agence adjoint")
GENERIC_TITLES = ("Chargé de projet", "Assistant", "Consultant", "Coordinateur")
HQ_HEAD_TITLE = "Directeur général"
SITE_HEAD_TITLE = "Directeur d'agence"
HEAD_TITLE_PREFIX = "Responsable "

JOB_QUALIFICATIONS = (
    "ETAM position 1.1", "ETAM position 2.2", "ETAM position 3.1",
    "Cadre position 1.2", "Cadre position 2.1", "Cadre position 2.3",
    "Cadre position 3.1", "Apprenti", "Stagiaire",
)

#: Employment templates: id → (label, has a planned end).
EMPLOYMENT_TEMPLATES: dict[int, tuple[str, bool]] = {
    1: ("CDI", False), 2: ("CDD", True), 3: ("Alternance", True), 4: ("Stage", True),
}

#: Cards groups that exist before the first import (plus one named like a department).
CARDS_GROUPS = ("Ambassadeurs", "Formateurs internes", "Comité de direction",
                "Nouveaux arrivants")
AMBASSADORS, TRAINERS = CARDS_GROUPS[0], CARDS_GROUPS[1]

#: Cards-only accounts: the workspace owner (a shared mailbox on the company domain)
#: and external trainers (firstname, lastname, email, company).
OWNER = ("Service", "Formation", "formation")
EXTERNAL_TRAINERS = (
    ("Véronique", "Castaing", "v.castaing@formavenir.fr", "Formavenir"),
    ("Bruno", "Le Meur", "bruno@lemeur-conseil.com", "Le Meur Conseil"),
    ("Sabrina", "Oukaci", "sabrina.oukaci@ergo-prev.fr", "ErgoPrev"),
)

#: Trainings: (title, description, category).
TRAININGS = (
    ("Parcours d'intégration",
     "Tout ce qu'il faut savoir pour bien démarrer : outils, interlocuteurs, valeurs.",
     "Onboarding"),
    ("RGPD : les essentiels",
     "Comprendre le règlement général sur la protection des données et adopter les bons "
     "réflexes au quotidien.", "Conformité"),
    ("Cybersécurité : déjouer le phishing",
     "Reconnaître un courriel frauduleux et savoir réagir en cas de doute.", "Sécurité"),
    ("Manager à distance",
     "Animer une équipe hybride : rituels, confiance et communication.", "Management"),
    ("Prévention des risques psychosociaux",
     "Identifier les signaux faibles et connaître les acteurs de la prévention.",
     "Santé au travail"),
    ("Sécurité incendie", "Les consignes, les extincteurs et l'évacuation en pratique.",
     "Sécurité"),
    ("Égalité professionnelle et lutte contre le harcèlement",
     "Le cadre légal, les situations à reconnaître et comment agir.", "Conformité"),
    ("Éco-gestes au bureau", "Réduire son empreinte numérique et énergétique.", "RSE"),
    ("Donner un feedback constructif", "La méthode pour un retour utile et bienveillant.",
     "Management"),
    ("Relation client : l'art de l'écoute",
     "Questionner, reformuler et transformer une réclamation en opportunité.",
     "Relation client"),
    ("Excel : tableaux croisés dynamiques", "Synthétiser des données en quelques clics.",
     "Bureautique"),
    ("Loi Sapin II : prévenir la corruption",
     "Cadeaux, invitations, conflits d'intérêts : ce qui est permis et ce qui ne l'est pas.",
     "Conformité"),
)
CHAPTER_OPENING = "Introduction"
CHAPTER_CLOSING_QUIZ = "Quiz final"
CHAPTER_TITLES = (
    "Les fondamentaux", "Cas pratique", "Les bons réflexes", "Pour aller plus loin",
    "À retenir", "Mise en situation", "Le cadre légal", "Les erreurs à éviter",
    "Témoignages", "Bilan",
)

#: Badges: (name, description, emoji, emoji name, unicode code point).
BADGES = (
    ("Premier pas", "Terminer sa première formation.", "🚀", "rocket", "1f680"),
    ("Curieux", "Suivre trois formations différentes.", "🔎", "mag_right", "1f50e"),
    ("Sans faute", "Réussir un quiz à 100 %.", "🎯", "dart", "1f3af"),
    ("Expert RGPD", "Terminer la formation RGPD avec un score parfait.", "🛡️", "shield",
     "1f6e1-fe0f"),
    ("Marathonien", "Terminer dix chapitres en une semaine.", "🏃", "runner", "1f3c3"),
    ("Ambassadeur", "Partager une formation avec son équipe.", "🌟", "star2", "1f31f"),
)

#: Certificates: (name, description).
CERTIFICATES = (
    ("Certificat RGPD", "Délivré à l'issue de la formation « RGPD : les essentiels »."),
    ("Attestation sécurité incendie", "Atteste du suivi de la formation sécurité incendie."),
    ("Certificat de management", "Parcours managers : distance, feedback, prévention."),
)
CERTIFICATE_CONTENT = (
    "<p>Nous certifions que <strong>{{firstname}} {{lastname}}</strong> a suivi avec succès "
    "le parcours « {{training}} » le {{date}}.</p>"
)
