package store

import "handoff/workflows/vocab"

// The phrase bank of seeded cases: what customers write, in English and
// French, per category. A few issues per category recur with the same
// wording (a login broken by an app update, "compte bloqué", a refund that
// never came, a seller who does not answer), so that clustering by trigram
// or full-text search has dominant recurring issues to find.

// seedIssue is one recurring problem: the subjects and descriptions
// customers use for it in each locale.
type seedIssue struct {
	weight            int
	subjectEN, descEN []string
	subjectFR, descFR []string
}

// seedCategory is a category's share of the cases and its issues.
type seedCategory struct {
	category vocab.Category
	weight   int
	issues   []seedIssue
}

// seedCategories lists every category with its share (per mille, roughly)
// and its issues, the dominant one first.
var seedCategories = []seedCategory{
	{vocab.CategoryLoginFailure, 140, []seedIssue{
		{6, []string{"Cannot log in after the app update", "Can't log in since the app update", "Login fails after updating the app"},
			[]string{"Since the latest app update I cannot log in: the app says my password is wrong but it works on the website.", "After updating the app the login screen loops back every time I enter my password."},
			[]string{"Impossible de me connecter depuis la mise à jour", "Connexion impossible après la mise à jour de l'application"},
			[]string{"Depuis la dernière mise à jour de l'application je ne peux plus me connecter, le mot de passe est refusé alors qu'il marche sur le site.", "Après la mise à jour, l'écran de connexion revient en boucle."}},
		{3, []string{"Two-factor code never arrives", "2FA code not received"},
			[]string{"I never receive the two-factor code by SMS so I cannot log in.", "The verification code does not arrive, I tried five times."},
			[]string{"Je ne reçois pas le code de vérification", "Code de double authentification jamais reçu"},
			[]string{"Le code de vérification par SMS n'arrive jamais, je ne peux pas me connecter.", "Je ne reçois pas le code à deux facteurs."}},
		{2, []string{"Login page shows an error", "Error 500 when logging in"},
			[]string{"The login page shows an unexpected error after I submit my email.", "I get an error page when I try to log in from my laptop."},
			[]string{"Erreur sur la page de connexion", "Erreur 500 à la connexion"},
			[]string{"La page de connexion affiche une erreur après avoir saisi mon email.", "J'obtiens une page d'erreur quand je me connecte."}},
	}},
	{vocab.CategoryPasswordReset, 90, []seedIssue{
		{5, []string{"Password reset email not received", "No password reset email"},
			[]string{"I asked for a password reset three times and no email arrived, not even in spam.", "The reset link email never comes."},
			[]string{"Email de réinitialisation du mot de passe non reçu", "Pas reçu le lien de réinitialisation"},
			[]string{"J'ai demandé trois fois la réinitialisation du mot de passe et je n'ai rien reçu, même dans les spams.", "Le lien de réinitialisation n'arrive jamais."}},
		{2, []string{"Password reset link expired", "Reset link says it has expired"},
			[]string{"The reset link says it has expired although I clicked it right away.", "Every reset link I open is already expired."},
			[]string{"Le lien de réinitialisation a expiré", "Lien expiré"},
			[]string{"Le lien indique qu'il a expiré alors que je l'ai ouvert tout de suite.", "Chaque lien de réinitialisation est déjà expiré."}},
	}},
	{vocab.CategoryLockedAccount, 90, []seedIssue{
		{6, []string{"Account locked after failed attempts", "My account is locked", "Account locked, cannot access"},
			[]string{"My account got locked after a few failed login attempts and I cannot unlock it.", "The site says my account is locked for security reasons."},
			[]string{"Compte bloqué après plusieurs tentatives", "Mon compte est bloqué", "Compte bloqué, accès impossible"},
			[]string{"Mon compte a été bloqué après plusieurs tentatives de connexion et je ne peux pas le débloquer.", "Le site indique que mon compte est bloqué pour raison de sécurité."}},
		{2, []string{"Account suspended without reason", "Why is my account suspended?"},
			[]string{"I received an email saying my account is suspended but I did nothing wrong.", "My account was suspended overnight without explanation."},
			[]string{"Compte suspendu sans raison", "Pourquoi mon compte est-il suspendu ?"},
			[]string{"J'ai reçu un email disant que mon compte est suspendu sans raison.", "Mon compte a été suspendu pendant la nuit sans explication."}},
	}},
	{vocab.CategorySecurityAlert, 40, []seedIssue{
		{4, []string{"Someone logged into my account", "Unknown login on my account", "Suspicious login alert"},
			[]string{"I got an alert about a login from another country that was not me.", "Someone changed my email address without my permission."},
			[]string{"Quelqu'un s'est connecté à mon compte", "Connexion inconnue sur mon compte", "Alerte de connexion suspecte"},
			[]string{"J'ai reçu une alerte de connexion depuis un autre pays, ce n'était pas moi.", "Quelqu'un a changé mon adresse email sans mon accord."}},
	}},
	{vocab.CategoryProfileChange, 50, []seedIssue{
		{3, []string{"Change the email on my account", "Update my email address"},
			[]string{"I lost access to my old mailbox and need to change the email on my account.", "Please update my email address, the old one is closed."},
			[]string{"Changer l'email de mon compte", "Modifier mon adresse email"},
			[]string{"Je n'ai plus accès à mon ancienne boîte mail, je dois changer l'email du compte.", "Merci de mettre à jour mon adresse email."}},
		{2, []string{"Change my phone number", "New phone number"},
			[]string{"I have a new phone number and cannot receive codes on the old one.", "Please change the phone number on my profile."},
			[]string{"Changer mon numéro de téléphone", "Nouveau numéro de téléphone"},
			[]string{"J'ai un nouveau numéro et je ne reçois plus les codes sur l'ancien.", "Merci de changer le numéro de mon profil."}},
	}},
	{vocab.CategoryAccountMerge, 15, []seedIssue{
		{1, []string{"Merge my two accounts", "I have two accounts"},
			[]string{"I created a second account by mistake and want to merge them.", "Please merge my old account into my new one."},
			[]string{"Fusionner mes deux comptes", "J'ai deux comptes"},
			[]string{"J'ai créé un deuxième compte par erreur et je veux les fusionner.", "Merci de fusionner mon ancien compte avec le nouveau."}},
	}},
	{vocab.CategoryAccountDeliveryIssue, 60, []seedIssue{
		{4, []string{"Delivered account does not work", "Account credentials don't work", "Delivered account not working"},
			[]string{"The account I bought was delivered but the credentials do not work.", "The login details of the delivered account are rejected."},
			[]string{"Le compte livré ne fonctionne pas", "Les identifiants du compte ne marchent pas"},
			[]string{"Le compte acheté a été livré mais les identifiants ne fonctionnent pas.", "Les identifiants du compte livré sont refusés."}},
		{2, []string{"Seller took the account back", "Account recovered by the seller"},
			[]string{"The seller changed the password of the account I bought.", "I lost access to the account, the seller recovered it."},
			[]string{"Le vendeur a repris le compte", "Compte récupéré par le vendeur"},
			[]string{"Le vendeur a changé le mot de passe du compte que j'ai acheté.", "J'ai perdu l'accès au compte, le vendeur l'a récupéré."}},
	}},
	{vocab.CategoryOrderIssue, 90, []seedIssue{
		{4, []string{"Seller not answering", "The seller does not reply to my messages", "Seller not responding"},
			[]string{"I paid a week ago and the seller does not answer my messages.", "The seller has not replied to any of my messages about the order."},
			[]string{"Le vendeur ne répond pas", "Le vendeur ne répond pas à mes messages"},
			[]string{"J'ai payé il y a une semaine et le vendeur ne répond pas à mes messages.", "Le vendeur n'a répondu à aucun de mes messages sur la commande."}},
		{2, []string{"Wrong item in my order", "Order has the wrong product"},
			[]string{"I received a different product than the one I ordered.", "The item in the parcel is not what I ordered."},
			[]string{"Mauvais article dans ma commande", "Produit reçu incorrect"},
			[]string{"J'ai reçu un autre produit que celui commandé.", "L'article dans le colis n'est pas celui que j'ai commandé."}},
	}},
	{vocab.CategoryDeliveryDelay, 90, []seedIssue{
		{5, []string{"Order not delivered yet", "My parcel has not arrived", "Delivery is late"},
			[]string{"My order was supposed to arrive last week and tracking has not moved.", "The parcel is still not delivered after ten days."},
			[]string{"Commande toujours pas livrée", "Mon colis n'est pas arrivé", "Livraison en retard"},
			[]string{"Ma commande devait arriver la semaine dernière et le suivi ne bouge plus.", "Le colis n'est toujours pas livré après dix jours."}},
	}},
	{vocab.CategoryDefectiveItem, 50, []seedIssue{
		{3, []string{"Item arrived broken", "Product is defective", "Received a damaged item"},
			[]string{"The headset arrived with a broken hinge.", "The product stopped working after two days."},
			[]string{"Article arrivé cassé", "Produit défectueux", "Article reçu endommagé"},
			[]string{"Le casque est arrivé avec une charnière cassée.", "Le produit ne fonctionne plus après deux jours."}},
	}},
	{vocab.CategoryRefundRequest, 90, []seedIssue{
		{5, []string{"Refund not received", "Still waiting for my refund", "Where is my refund?"},
			[]string{"I was told I would be refunded ten days ago and nothing arrived on my card.", "My refund was approved but I have not received the money."},
			[]string{"Remboursement non reçu", "Toujours en attente de mon remboursement", "Où est mon remboursement ?"},
			[]string{"On m'a annoncé un remboursement il y a dix jours et rien n'est arrivé sur ma carte.", "Mon remboursement a été validé mais je n'ai pas reçu l'argent."}},
		{2, []string{"Charged twice for one order", "Double payment"},
			[]string{"My card was charged twice for the same order.", "I see two payments for one order on my statement."},
			[]string{"Débité deux fois pour une commande", "Double paiement"},
			[]string{"Ma carte a été débitée deux fois pour la même commande.", "Je vois deux paiements pour une seule commande."}},
	}},
	{vocab.CategoryReturnRequest, 50, []seedIssue{
		{3, []string{"I want to return my order", "Return request", "How do I return an item?"},
			[]string{"The item does not fit and I would like to send it back.", "I changed my mind and want to return the product."},
			[]string{"Je veux retourner ma commande", "Demande de retour", "Comment retourner un article ?"},
			[]string{"L'article ne convient pas et je voudrais le renvoyer.", "J'ai changé d'avis et je veux retourner le produit."}},
	}},
	{vocab.CategoryDispute, 30, []seedIssue{
		{3, []string{"Item not as described, seller refuses refund", "Dispute with the seller", "Seller refuses to refund"},
			[]string{"The item is not as described and the seller refuses any refund.", "I want to open a dispute, the seller ignores my claim."},
			[]string{"Article non conforme, le vendeur refuse de rembourser", "Litige avec le vendeur", "Le vendeur refuse le remboursement"},
			[]string{"L'article n'est pas conforme et le vendeur refuse tout remboursement.", "Je veux ouvrir un litige, le vendeur ignore ma réclamation."}},
	}},
	{vocab.CategorySellerOnboarding, 20, []seedIssue{
		{2, []string{"Identity verification pending", "Seller verification stuck"},
			[]string{"I uploaded my ID a week ago and my seller account is still not verified.", "My seller verification has been pending for days."},
			[]string{"Vérification d'identité en attente", "Vérification vendeur bloquée"},
			[]string{"J'ai envoyé ma pièce d'identité il y a une semaine et mon compte vendeur n'est toujours pas vérifié.", "Ma vérification vendeur est en attente depuis des jours."}},
	}},
	{vocab.CategorySellerPayment, 30, []seedIssue{
		{2, []string{"Payout not received", "Seller payout missing"},
			[]string{"My payout for last month's sales has not arrived.", "The payout shows as sent but my bank has nothing."},
			[]string{"Virement vendeur non reçu", "Paiement vendeur manquant"},
			[]string{"Le virement de mes ventes du mois dernier n'est pas arrivé.", "Le virement apparaît envoyé mais ma banque n'a rien reçu."}},
	}},
	{vocab.CategoryFraudReport, 15, []seedIssue{
		{1, []string{"Scam seller", "Fraudulent listing"},
			[]string{"This seller takes payments and never delivers, several buyers are affected.", "The listing is a scam, the account sold does not exist."},
			[]string{"Vendeur arnaqueur", "Annonce frauduleuse"},
			[]string{"Ce vendeur encaisse et ne livre jamais, plusieurs acheteurs sont touchés.", "L'annonce est une arnaque, le compte vendu n'existe pas."}},
	}},
	{vocab.CategoryGeneralQuestion, 60, []seedIssue{
		{2, []string{"How do fees work?", "Question about seller fees"},
			[]string{"I would like to understand the fees taken on each sale.", "What are the fees for selling on the marketplace?"},
			[]string{"Comment fonctionnent les frais ?", "Question sur les frais vendeur"},
			[]string{"Je voudrais comprendre les frais prélevés sur chaque vente.", "Quels sont les frais pour vendre sur la marketplace ?"}},
		{1, []string{"Delete my account", "Close my account"},
			[]string{"Please delete my account and my data.", "I want to close my account."},
			[]string{"Supprimer mon compte", "Fermer mon compte"},
			[]string{"Merci de supprimer mon compte et mes données.", "Je veux fermer mon compte."}},
	}},
}

// What agents and customers write later in a case, per locale.
var (
	seedReplies = map[string][]string{
		"en": {"Thanks for reaching out, we are looking into it.", "Could you confirm the email on your account?", "We have checked your account and applied a fix, please try again.", "I have forwarded this to the team in charge, you will hear from us shortly."},
		"fr": {"Merci de nous avoir contactés, nous regardons cela.", "Pouvez-vous confirmer l'email de votre compte ?", "Nous avons vérifié votre compte et appliqué une correction, merci de réessayer.", "J'ai transmis à l'équipe concernée, nous revenons vers vous rapidement."},
	}
	seedCustomerMessages = map[string][]string{
		"en": {"It still does not work.", "Here is the screenshot you asked for.", "Yes, that is my email address.", "Any news?"},
		"fr": {"Ça ne marche toujours pas.", "Voici la capture d'écran demandée.", "Oui, c'est bien mon adresse email.", "Des nouvelles ?"},
	}
	seedWaitReasons  = []string{"asked the customer for a screenshot", "asked the customer to confirm their identity", "asked the customer for the order number", "asked the customer to try again"}
	seedEscalations  = []string{"needs account verification", "customer reports it again after the fix", "refund above agent limit", "possible account takeover", "seller unresponsive, needs enforcement"}
	seedResolutions  = []string{"fixed on our side, customer confirmed", "password reset and access restored", "refund issued", "explained the process to the customer", "account unlocked after verification", "order delivered, tracking updated"}
	seedCSATComments = map[string][]string{
		"en": {"Quick and helpful, thanks!", "Took too long to get an answer.", "Problem solved.", "The agent was very kind."},
		"fr": {"Rapide et efficace, merci !", "Trop long pour avoir une réponse.", "Problème résolu.", "Agent très aimable."},
	}
	seedFirstNames = []string{"Ana", "Bo", "Chloé", "David", "Emma", "Farid", "Giulia", "Hugo", "Inès", "Jules", "Karim", "Léa", "Marc", "Nora", "Oscar", "Paula", "Quentin", "Rosa", "Sami", "Tom"}
	seedLastNames  = []string{"Martin", "Bernard", "Dubois", "Smith", "Garcia", "Moreau", "Laurent", "Nguyen", "Müller", "Rossi", "Brown", "Lefèvre"}
	seedAgents     = map[vocab.Team][]string{
		vocab.TeamTier1Support:      {"ana", "bo", "ines", "jules", "lea", "marc", "nora", "sami"},
		vocab.TeamAccountManagement: {"al", "camille", "dina"},
		vocab.TeamSecurity:          {"sec.eva", "sec.yann"},
		vocab.TeamTrustSafety:       {"ts.rosa", "ts.omar", "ts.lin"},
	}
	seedProducts = []string{"Valorant", "Fortnite", "Netflix Premium", "Spotify Family", "World of Warcraft", "Steam", "Disney+", "Minecraft"}
	seedRegions  = []string{"fr", "de", "us", "es"}
	seedItems    = []struct{ sku, name string }{{"HS-1", "Headset"}, {"KB-2", "Mechanical keyboard"}, {"MS-3", "Gaming mouse"}, {"CT-4", "Controller"}, {"CH-5", "Gaming chair"}}
)
