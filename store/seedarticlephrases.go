package store

import "handoff/workflows/vocab"

// The phrase bank of seeded knowledge-base articles: what agents write,
// in English and French, per category. Filler articles combine a topic
// with a title pattern and a qualifier; their bodies take the category's
// steps. None of these words may make a published article match a
// recurring issue left without one (seedUncoveredIssues): the bank never
// says "update", "answer", "respond", "reply", "never", "2FA" in English,
// nor "jour", "répond", "jamais", "reçois" in French, and the test
// searches every subject of those issues to hold it so.

// seedText is a phrase in each locale.
type seedText struct{ en, fr string }

// seedUncoveredIssues are the recurring issues (category and index in its
// seedCategories issues) deliberately left without an article, so that a
// recurring-issues report has cases no article answers: the login broken
// by an app release (the second most frequent issue), the two-factor code
// that does not come, and the seller who goes silent.
var seedUncoveredIssues = map[vocab.Category][]int{
	vocab.CategoryLoginFailure: {0, 1},
	vocab.CategoryOrderIssue:   {0},
}

// seedArticleTopics are the filler topics per category: noun phrases that
// fit the title patterns.
var seedArticleTopics = map[vocab.Category][]seedText{
	vocab.CategoryLoginFailure: {
		{"passkey sign-in", "la connexion par clé d'accès"}, {"remembered devices", "les appareils mémorisés"},
		{"browser cookies and sign-in loops", "les cookies du navigateur et les boucles de connexion"},
		{"single sign-on with Google or Apple", "la connexion avec Google ou Apple"},
		{"sessions ended by a password change", "les sessions fermées par un changement de mot de passe"},
		{"sign-in from a new country", "la connexion depuis un nouveau pays"},
	},
	vocab.CategoryPasswordReset: {
		{"password rules", "les règles de mot de passe"}, {"reset emails caught by spam filters", "les emails de réinitialisation filtrés comme spam"},
		{"resetting a password without the old email", "la réinitialisation sans l'ancien email"},
		{"password managers", "les gestionnaires de mots de passe"}, {"forced password resets", "les réinitialisations imposées"},
	},
	vocab.CategoryLockedAccount: {
		{"temporary locks after failed sign-ins", "les blocages temporaires après des échecs de connexion"},
		{"why the system may block an account", "pourquoi le système peut bloquer un compte"},
		{"unlocking an account after identity checks", "le déblocage d'un compte après vérification d'identité"},
		{"suspensions for policy breaches", "les suspensions pour non-respect des règles"},
		{"appeals against a suspension", "les recours contre une suspension"},
	},
	vocab.CategorySecurityAlert: {
		{"sign-in alerts", "les alertes de connexion"}, {"account takeover recovery", "la récupération d'un compte piraté"},
		{"phishing emails", "les emails d'hameçonnage"}, {"security keys", "les clés de sécurité"},
		{"signing out every device", "la déconnexion de tous les appareils"},
	},
	vocab.CategoryProfileChange: {
		{"changing the display name", "le changement du nom affiché"}, {"email address changes", "les changements d'adresse email"},
		{"phone number changes", "les changements de numéro de téléphone"}, {"language and region settings", "les réglages de langue et de région"},
		{"marketing preferences", "les préférences marketing"},
	},
	vocab.CategoryAccountMerge: {
		{"merging duplicate accounts", "la fusion de comptes en double"}, {"what a merge keeps and loses", "ce qu'une fusion garde et perd"},
		{"merge requests from sellers", "les demandes de fusion des vendeurs"},
	},
	vocab.CategoryAccountDeliveryIssue: {
		{"checking delivered credentials", "la vérification des identifiants livrés"}, {"the handoff record", "la fiche de remise"},
		{"accounts recovered by the seller", "les comptes récupérés par le vendeur"},
		{"the warranty of delivered accounts", "la garantie des comptes livrés"},
		{"replacement accounts", "les comptes de remplacement"},
	},
	vocab.CategoryOrderIssue: {
		{"cancelling an order before delivery", "l'annulation d'une commande avant livraison"},
		{"wrong items in an order", "les articles erronés dans une commande"},
		{"order confirmation emails", "les emails de confirmation de commande"},
		{"changing the delivery address", "le changement d'adresse de livraison"}, {"split orders", "les commandes fractionnées"},
	},
	vocab.CategoryDeliveryDelay: {
		{"carrier tracking", "le suivi transporteur"}, {"delivery estimates", "les estimations de livraison"},
		{"parcels held at customs", "les colis retenus en douane"}, {"lost parcels", "les colis perdus"},
		{"delivery to a pickup point", "la livraison en point relais"},
	},
	vocab.CategoryDefectiveItem: {
		{"photos of damaged items", "les photos d'articles endommagés"}, {"the warranty of physical items", "la garantie des articles physiques"},
		{"replacements for defective items", "le remplacement des articles défectueux"},
		{"items damaged in transit", "les articles abîmés pendant le transport"},
	},
	vocab.CategoryRefundRequest: {
		{"refund timelines", "les délais de remboursement"}, {"partial refunds", "les remboursements partiels"},
		{"refunds to an expired card", "les remboursements sur une carte expirée"},
		{"duplicate charges", "les doubles débits"}, {"store credit instead of a refund", "l'avoir à la place d'un remboursement"},
	},
	vocab.CategoryReturnRequest: {
		{"the return window", "le délai de retour"}, {"return labels", "les étiquettes de retour"},
		{"items that cannot be returned", "les articles non retournables"}, {"return shipping costs", "les frais de retour"},
	},
	vocab.CategoryDispute: {
		{"opening a dispute", "l'ouverture d'un litige"}, {"evidence in a dispute", "les preuves dans un litige"},
		{"dispute deadlines", "les délais d'un litige"}, {"dispute outcomes", "l'issue d'un litige"},
		{"items not as described", "les articles non conformes"},
	},
	vocab.CategorySellerOnboarding: {
		{"identity verification for sellers", "la vérification d'identité des vendeurs"},
		{"documents a seller must provide", "les documents qu'un vendeur doit fournir"},
		{"business seller accounts", "les comptes vendeur professionnels"}, {"the first listing", "la première annonce"},
	},
	vocab.CategorySellerPayment: {
		{"payout schedules", "le calendrier des virements"}, {"bank details for payouts", "les coordonnées bancaires des virements"},
		{"payouts on hold", "les virements suspendus"}, {"seller fees on a payout", "les frais vendeur sur un virement"},
		{"tax forms for sellers", "les formulaires fiscaux des vendeurs"},
	},
	vocab.CategoryFraudReport: {
		{"reporting a scam listing", "le signalement d'une annonce frauduleuse"}, {"signs of a fraudulent seller", "les signes d'un vendeur frauduleux"},
		{"payments outside the marketplace", "les paiements hors de la marketplace"}, {"chargeback fraud", "la fraude à la rétrofacturation"},
	},
	vocab.CategoryGeneralQuestion: {
		{"marketplace fees", "les frais de la marketplace"}, {"closing an account", "la fermeture d'un compte"},
		{"personal data requests", "les demandes de données personnelles"}, {"contacting the support team", "le contact avec l'équipe support"},
		{"buyer protection", "la protection des acheteurs"},
	},
}

// Title patterns of filler articles (%s the topic) and the qualifiers
// that narrow them to a platform or an audience.
var (
	seedTitlePatterns = []seedText{
		{"%s: a guide for agents", "%s : guide pour les agents"}, {"Troubleshooting %s", "Dépanner %s"},
		{"Checklist: %s", "Points de contrôle : %s"}, {"FAQ: %s", "FAQ : %s"},
		{"What to check about %s", "Ce qu'il faut vérifier : %s"}, {"Quick reference: %s", "Aide-mémoire : %s"},
		{"Handling %s", "Traiter %s"}, {"%s, step by step", "%s, étape par étape"},
	}
	seedTitleQualifiers = []seedText{
		{"", ""}, {"", ""}, {"", ""}, {" on iOS", " sur iOS"}, {" on Android", " sur Android"}, {" on the website", " sur le site"},
		{" for sellers", " pour les vendeurs"}, {" for business accounts", " pour les comptes professionnels"}, {" in the EU", " dans l'UE"},
	}
	seedIntros = []seedText{
		{"This article explains %s and the checks agents make before acting.", "Cet article présente %s et les vérifications à faire avant d'agir."},
		{"Use this guide when a customer asks about %s.", "Utilisez ce guide quand un client pose une question sur %s."},
		{"Questions about %s come up every week; the steps below keep the handling consistent.", "Les questions sur %s reviennent chaque semaine ; les étapes ci-dessous gardent un traitement cohérent."},
		{"A short procedure for %s, written from the cases the team handled.", "Une procédure courte pour %s, écrite à partir des dossiers traités par l'équipe."},
	}
	seedCoveredIntros = []seedText{
		{"Many customers write to us about this. The procedure below fixes most cases at the first contact.", "Beaucoup de clients nous écrivent à ce sujet. La procédure ci-dessous règle la plupart des dossiers dès le premier contact."},
		{"This is one of the most frequent issues of the category; follow these steps before escalating.", "C'est l'un des problèmes les plus fréquents de la catégorie ; suivez ces étapes avant d'escalader."},
	}
	seedBeforeYouStart = []seedText{
		{"Confirm the customer's identity with the email on the account.", "Confirmez l'identité du client avec l'email du compte."},
		{"Read the case timeline: another agent may already have tried a fix.", "Lisez l'historique du dossier : un autre agent a peut-être déjà tenté une solution."},
		{"Check the order number when the case has one.", "Vérifiez le numéro de commande quand le dossier en a un."},
		{"Look for an open incident on the status page.", "Regardez s'il y a un incident en cours sur la page d'état."},
		{"Do not ask for a password, only for the email and the order number.", "Ne demandez pas de mot de passe, seulement l'email et le numéro de commande."},
	}
	seedEscalateWhen = []seedText{
		{"the steps above did not work after two attempts", "les étapes ci-dessus n'ont pas suffi après deux essais"},
		{"the customer cannot prove they own the account", "le client ne peut pas prouver qu'il possède le compte"},
		{"the amount is above your refund limit", "le montant dépasse votre limite de remboursement"},
		{"you see signs of fraud", "vous voyez des signes de fraude"},
		{"several customers report the same problem within the hour", "plusieurs clients signalent le même problème dans l'heure"},
	}
)

// seedArticleSteps are what agents do, per category, in the order they do
// it; an article takes some of them, in this order.
var seedArticleSteps = map[vocab.Category][]seedText{
	vocab.CategoryLoginFailure: {
		{"Ask which device and browser the customer uses.", "Demandez quel appareil et quel navigateur le client utilise."},
		{"Check the sign-in log of the account for failed attempts.", "Consultez le journal de connexion du compte pour voir les échecs."},
		{"Have the customer clear the cookies of the site and sign in again.", "Faites effacer les cookies du site puis retenter la connexion."},
		{"Check that the account is neither locked nor suspended.", "Vérifiez que le compte n'est ni bloqué ni suspendu."},
		{"Send a sign-in link by email from the admin console.", "Envoyez un lien de connexion par email depuis la console d'administration."},
		{"Note the device and browser in the case before closing it.", "Notez l'appareil et le navigateur dans le dossier avant de le clôturer."},
	},
	vocab.CategoryPasswordReset: {
		{"Check the email address on the account letter by letter.", "Vérifiez l'adresse email du compte lettre par lettre."},
		{"Look in the email log whether the reset email left.", "Regardez dans le journal des emails si l'email de réinitialisation est parti."},
		{"Ask the customer to look in the spam and promotions folders.", "Demandez au client de regarder dans les spams et les promotions."},
		{"Send a new reset link; a link is valid for 30 minutes.", "Envoyez un nouveau lien ; un lien est valable 30 minutes."},
		{"Tell the customer to open the link in the same browser.", "Dites au client d'ouvrir le lien dans le même navigateur."},
	},
	vocab.CategoryLockedAccount: {
		{"Open the security log to see why the account was locked.", "Ouvrez le journal de sécurité pour voir la cause du blocage."},
		{"Check whether the anti-fraud rules made the system block the account.", "Vérifiez si les règles anti-fraude ont fait bloquer le compte."},
		{"Verify the customer's identity with two of the account's details.", "Vérifiez l'identité du client avec deux informations du compte."},
		{"Unlock the account from the admin console.", "Débloquez le compte depuis la console d'administration."},
		{"Ask the customer to choose a new password at the next sign-in.", "Demandez au client de choisir un nouveau mot de passe à la prochaine connexion."},
	},
	vocab.CategorySecurityAlert: {
		{"Sign out every session of the account.", "Fermez toutes les sessions du compte."},
		{"Reset the password and the second factor.", "Réinitialisez le mot de passe et le second facteur."},
		{"Compare the email and phone number with the history of the profile.", "Comparez l'email et le téléphone avec l'historique du profil."},
		{"Restore the customer's email if someone changed it.", "Rétablissez l'email du client si quelqu'un l'a changé."},
		{"Hand the case to the security team with the suspicious sign-ins.", "Transmettez le dossier à l'équipe sécurité avec les connexions suspectes."},
	},
	vocab.CategoryProfileChange: {
		{"Verify the customer's identity before any change.", "Vérifiez l'identité du client avant tout changement."},
		{"Send a confirmation link to the new address or number.", "Envoyez un lien de confirmation à la nouvelle adresse ou au nouveau numéro."},
		{"Wait for the confirmation before switching the profile.", "Attendez la confirmation avant de modifier le profil."},
		{"Tell the customer the old address gets a notice of the change.", "Prévenez le client que l'ancienne adresse reçoit un avis du changement."},
	},
	vocab.CategoryAccountMerge: {
		{"Confirm the customer owns both accounts.", "Confirmez que le client possède les deux comptes."},
		{"List the orders, balance and listings of each account.", "Listez les commandes, le solde et les annonces de chaque compte."},
		{"Choose the account that stays; the other one is closed.", "Choisissez le compte qui reste ; l'autre est fermé."},
		{"Start the merge from the admin console and note it in the case.", "Lancez la fusion depuis la console d'administration et notez-la dans le dossier."},
	},
	vocab.CategoryAccountDeliveryIssue: {
		{"Open the handoff record of the delivery.", "Ouvrez la fiche de remise de la livraison."},
		{"Check whether the credentials changed after the delivery.", "Vérifiez si les identifiants ont changé après la livraison."},
		{"Ask the seller for working credentials within 24 hours.", "Demandez au vendeur des identifiants valides sous 24 heures."},
		{"Offer a replacement or a refund when the warranty still runs.", "Proposez un remplacement ou un remboursement tant que la garantie court."},
	},
	vocab.CategoryOrderIssue: {
		{"Open the order and check its status and items.", "Ouvrez la commande et vérifiez son statut et ses articles."},
		{"Compare the listing with what the customer received.", "Comparez l'annonce avec ce que le client a reçu."},
		{"Message the seller from the case so the exchange is kept.", "Écrivez au vendeur depuis le dossier pour garder l'échange."},
		{"Offer a return or a refund when the item differs from the listing.", "Proposez un retour ou un remboursement si l'article diffère de l'annonce."},
	},
	vocab.CategoryDeliveryDelay: {
		{"Open the tracking page of the carrier.", "Ouvrez la page de suivi du transporteur."},
		{"Compare the estimate with the date of the order.", "Comparez l'estimation avec la date de la commande."},
		{"Open an investigation with the carrier after 7 working days without a scan.", "Ouvrez une enquête chez le transporteur après 7 jours ouvrés sans scan."},
		{"Offer a refund when the carrier declares the parcel lost.", "Proposez un remboursement quand le transporteur déclare le colis perdu."},
	},
	vocab.CategoryDefectiveItem: {
		{"Ask for photos of the item and of the parcel.", "Demandez des photos de l'article et du colis."},
		{"Check that the warranty still runs.", "Vérifiez que la garantie court encore."},
		{"Offer a replacement first, a refund when none is available.", "Proposez d'abord un remplacement, un remboursement sinon."},
		{"Send a prepaid return label for the defective item.", "Envoyez une étiquette de retour prépayée pour l'article défectueux."},
	},
	vocab.CategoryRefundRequest: {
		{"Check the refund in the payments console and copy its reference.", "Vérifiez le remboursement dans la console des paiements et copiez sa référence."},
		{"Tell the customer the bank takes 5 to 10 working days.", "Indiquez au client que la banque met 5 à 10 jours ouvrés."},
		{"Give the refund reference so the bank can trace it.", "Donnez la référence du remboursement pour que la banque la retrouve."},
		{"Refund a duplicate charge at once; no approval is needed.", "Remboursez un double débit tout de suite ; aucune validation n'est nécessaire."},
	},
	vocab.CategoryReturnRequest: {
		{"Check the return window of the order.", "Vérifiez le délai de retour de la commande."},
		{"Create the return from the order page.", "Créez le retour depuis la page de la commande."},
		{"Send the return label to the customer.", "Envoyez l'étiquette de retour au client."},
		{"Refund when the seller confirms the item came back.", "Remboursez quand le vendeur confirme la réception de l'article."},
	},
	vocab.CategoryDispute: {
		{"Collect the listing, the messages and the customer's photos.", "Rassemblez l'annonce, les messages et les photos du client."},
		{"Open the dispute and give the seller three business days.", "Ouvrez le litige et laissez trois jours ouvrés au vendeur."},
		{"Compare both sides' evidence with the listing.", "Comparez les preuves des deux parties avec l'annonce."},
		{"Decide and write the reason in the case.", "Décidez et écrivez la raison dans le dossier."},
	},
	vocab.CategorySellerOnboarding: {
		{"Check the status of the identity verification.", "Vérifiez le statut de la vérification d'identité."},
		{"Ask for a clearer copy when the document is blurred.", "Demandez une copie plus nette quand le document est flou."},
		{"Check that the name matches the bank account.", "Vérifiez que le nom correspond au compte bancaire."},
		{"Tell the seller verification takes up to 48 hours.", "Indiquez au vendeur que la vérification prend jusqu'à 48 heures."},
	},
	vocab.CategorySellerPayment: {
		{"Open the payout in the payments console.", "Ouvrez le virement dans la console des paiements."},
		{"Check the bank details and the payout hold reasons.", "Vérifiez les coordonnées bancaires et les motifs de suspension."},
		{"Give the seller the payout reference for the bank.", "Donnez au vendeur la référence du virement pour la banque."},
		{"Escalate payouts on hold for more than 5 business days.", "Escaladez les virements suspendus depuis plus de 5 jours ouvrés."},
	},
	vocab.CategoryFraudReport: {
		{"Collect the listing, the order and the messages.", "Rassemblez l'annonce, la commande et les messages."},
		{"Check other reports against the same seller.", "Cherchez d'autres signalements contre le même vendeur."},
		{"Hide the listing while trust and safety investigates.", "Masquez l'annonce pendant l'enquête de l'équipe confiance et sécurité."},
		{"Tell the buyer they are covered by buyer protection.", "Indiquez à l'acheteur qu'il est couvert par la protection acheteur."},
	},
	vocab.CategoryGeneralQuestion: {
		{"Find the help center page on the topic.", "Trouvez la page du centre d'aide sur le sujet."},
		{"Send the link with a one-line summary.", "Envoyez le lien avec un résumé d'une ligne."},
		{"For account closure, confirm the balance is zero first.", "Pour une fermeture de compte, vérifiez d'abord que le solde est nul."},
		{"For data requests, open a privacy case.", "Pour une demande de données, ouvrez un dossier confidentialité."},
	},
}

// Headings and labels of an article body, per locale.
var seedArticleLabels = map[string]struct {
	beforeYouStart, steps, reference, escalate, customersWrite, caseNote, priority, firstContact, resolution, team, escalateTo, ref string
}{
	"en": {"Before you start", "Steps", "Service levels", "When to escalate", "What customers write", "Case note template",
		"Priority", "First contact within", "Resolution within", "Team", "Escalate to %s when %s.", "Reference:"},
	"fr": {"Avant de commencer", "Étapes", "Niveaux de service", "Quand escalader", "Ce que les clients écrivent", "Modèle de note de dossier",
		"Priorité", "Premier contact sous", "Résolution sous", "Équipe", "Escaladez à %s quand %s.", "Référence :"},
}

// seedTeamNames are the teams as an article names them.
var seedTeamNames = map[vocab.Team]seedText{
	vocab.TeamTier1Support:      {"tier 1 support", "le support niveau 1"},
	vocab.TeamAccountManagement: {"account management", "la gestion des comptes"},
	vocab.TeamSecurity:          {"the security team", "l'équipe sécurité"},
	vocab.TeamTrustSafety:       {"trust and safety", "l'équipe confiance et sécurité"},
}
